"""Prism experiments: reproduce runs end to end at a toy size and writes its record, figures and report section."""
import json
import torch; torch.set_num_threads(1)
from genrich.core import Scale, load_result
from genrich.prism.experiments import reproduce

TOY = dict(tasks=dict(addition=dict(n_digits=2), pathstar=dict(degree=2, arm_len=2, n_labels=8)), n_train=200, n_test=20, spec_k=(2,),
           model=dict(d_model=16, n_layers=1, n_heads=2), train=dict(steps=20, batch_size=16, lr=3e-3, warmup=5, log_every=10, ckpt_every=20),
           text=dict(seq_len=16, n_train=200, n_val=32, n_orders=1, model=dict(d_model=16, n_layers=1, n_heads=2),
                     train=dict(steps=10, batch_size=8, lr=3e-3, warmup=2, log_every=5, ckpt_every=10)))


def test_reproduce_toy(tmp_path):
    md = reproduce(Scale('quick'), tmp_path, overrides=TOY)
    assert md.startswith('## Prism') and '| claim (thesis, with its number) | measured here | holds? |' in md
    rec = load_result('prism', out=tmp_path)
    n = rec['numbers']
    assert set(n) == {'table_5_4', 'table_5_1', 'fig_5_5', 'table_5_2'}
    assert all(0 <= v <= 100 for r in n['table_5_4'].values() for v in r.values())
    for r in n['table_5_2']['rows'].values():           # measured costs equal the Table 5.2 formulas
        if r['theory']['passes'] is not None:
            assert r['passes'] == r['theory']['passes'] and r['tokens_computed'] == r['theory'].get('exact', r['theory']['tokens_computed'])
    assert (tmp_path/'figures'/'prism_fig_5_5.png').stat().st_size > 0
    assert '### Table 5.1 on text' in md and load_result('prism_table_5_1', out=tmp_path)['numbers']['val_book'] == 'persuasion'
    assert (tmp_path/'models'/'prism'/'addition_prism'/'model.safetensors').exists()
