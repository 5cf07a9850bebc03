"""Prism on text: the character tokenizer, Austen splits and a tiny Table 5.1 run."""
import math
import numpy as np
import pytest
import torch; torch.set_num_threads(1)
from genrich.core import Scale, load_result
from genrich.data import load_jane_austen
from genrich.prism.text import CharTokenizer, austen_splits, table_5_1, val_losses, plot_prism_table_5_1
from genrich.prism.model import Prism, PrismConfig

TINY = dict(seq_len=16, n_train=200, n_val=32, n_orders=1, model=dict(d_model=16, n_layers=1, n_heads=2),
            train=dict(steps=10, batch_size=8, lr=3e-3, warmup=2, log_every=5, ckpt_every=10))


def test_tokenizer_round_trip_and_unknown():
    text = load_jane_austen()['emma'][:5000]
    tok = CharTokenizer.fit(text)
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size == len(set(text)) + 1 and tok.unk_id == tok.vocab_size - 1
    assert tok.encode('\u00e9')[0] == tok.unk_id and tok.decode([tok.unk_id]) == tok.unk
    with pytest.raises(ValueError, match='chars'): CharTokenizer('aa')


def test_splits_shapes_disjoint_seeded():
    sp = austen_splits(24, seed=3, n_train=300, n_val=50)
    assert sp['train']['x'].shape == (300, 24) and sp['val']['x'].shape == (50, 24)
    assert not sp['train']['prompt'].any() and sp['train']['x'].max() < sp['tokenizer'].vocab_size
    books = load_jane_austen()
    val = [sp['tokenizer'].decode(r) for r in sp['val']['x']]
    assert all(v in books['persuasion'] for v in val if sp['tokenizer'].unk not in v)   # validation text is the held-out book
    train = {sp['tokenizer'].decode(r) for r in sp['train']['x']}
    assert not train & set(val) and all(any(t in books[b] for b in sp['train_books']) for t in list(train)[:20])
    assert torch.equal(austen_splits(24, seed=3, n_train=300, n_val=50)['train']['x'], sp['train']['x'])
    assert not torch.equal(austen_splits(24, seed=4, n_train=300, n_val=50)['train']['x'], sp['train']['x'])
    full = austen_splits(2000, seed=0, val_book='emma')
    assert len(full['val']['x']) == len(books['emma']) // 2000 and 'emma' not in full['train_books']


def test_bad_inputs():
    with pytest.raises(ValueError, match='seq_len'): austen_splits(1)
    with pytest.raises(ValueError, match='val_book'): austen_splits(16, val_book='ulysses')
    with pytest.raises(ValueError, match='n_val'): austen_splits(16, n_val=10**9)
    with pytest.raises(ValueError, match='pos'): table_5_1(Scale('quick'), '/tmp/unused', overrides={**TINY, 'pos': ('double_rope', 'nope')})


def test_val_losses_untrained_model_near_uniform():
    torch.manual_seed(0)
    m = Prism(PrismConfig(vocab_size=20, max_len=12, d_model=16, n_layers=1, n_heads=2))
    x = torch.randint(0, 20, (10, 12))
    v = val_losses(m, x, n_orders=2, seed=0)
    assert v.shape == (2, 10) and abs(v.mean() - math.log(21)) < 0.3        # BOS id is in the output vocabulary too
    assert np.array_equal(v, val_losses(m, x, n_orders=2, seed=0))


def test_tiny_table_5_1(tmp_path):
    md = table_5_1(Scale('quick'), tmp_path, overrides=TINY)
    assert md.startswith('### Table 5.1 on text') and '| claim (thesis, with its number) | measured here | holds? |' in md and '3.70' in md
    rec = load_result('prism_table_5_1', out=tmp_path)
    t = rec['numbers']['table_5_1']
    assert rec['config']['seq_len'] == 16 and rec['numbers']['val_book'] == 'persuasion'
    assert t['double_rope']['n_params'] == t['double_sinusoidal']['n_params']
    assert abs(t['difference']['mean'] - (t['double_rope']['val_loss'] - t['double_sinusoidal']['val_loss'])) < 1e-9
    assert (tmp_path/'figures'/'prism_table_5_1.png').stat().st_size > 0
    assert (tmp_path/'models'/'prism'/'austen_double_rope_T16'/'model.safetensors').exists()
    assert table_5_1(Scale('quick'), tmp_path, overrides=TINY) == md          # cached models reproduce the numbers
    plot_prism_table_5_1(rec)
