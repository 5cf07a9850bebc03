"""Descriptors (genrich.explorer.descriptors): the App. A.3.2 prompt path on a tiny random GPT-2, and the offline sources."""
import os, re
import numpy as np
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from genrich.explorer.descriptors import (PROMPT_TEMPLATE, descriptor_prompt, truncate_completion, is_degenerate, first_valid,
                                          LMDescriptors, StaticDescriptors, WordNetAdjectives, wordnet_visual_adjectives,
                                          add_descriptors, FMOW_DESCRIPTORS)

@pytest.fixture(scope='module')
def tiny_gpt2(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    d = tmp_path_factory.mktemp('tiny_gpt2')
    tk = Tokenizer(models.BPE()); tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False); tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator([descriptor_prompt(c) + ' big, small. wet_\n' for c in ('duck', 'cat', 'sailing boat')],
                           trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=['<|endoftext|>']))
    PreTrainedTokenizerFast(tokenizer_object=tk, eos_token='<|endoftext|>').save_pretrained(d)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=tk.get_vocab_size(), n_positions=256, n_embd=32, n_layer=1, n_head=2)).save_pretrained(d)
    return d

def test_prompt_is_the_thesis_template():
    p = descriptor_prompt('labrador retriever')
    assert p.splitlines() == ["What are some words that describe the quality of 'labrador retriever'?",
                              'The labrador retriever is frail.', 'The labrador retriever is red.',
                              'The labrador retriever is humongous.', 'The labrador retriever is tall.', 'The labrador retriever is']
    with pytest.raises(ValueError, match='concept'): descriptor_prompt('')

@pytest.mark.parametrize('raw,want', [(' a good-looking dog, and', 'a good-looking dog'), (' very gentle. ok', 'very gentle'),
                                      (' long_haired', 'long'), (' brown\nThe x is', 'brown'), (' loyal', 'loyal'), (', x', '')])
def test_truncation(raw, want): assert truncate_completion(raw) == want

def test_resampling_rule():
    assert is_degenerate('', 'duck') and is_degenerate('a Duck', 'duck') and not is_degenerate('a', 'duck')
    assert first_valid([' duck.', '. x', ' baby'], 'duck') == 'baby'
    assert first_valid([' duckling'], 'duck') is None

def test_lm_path_on_tiny_gpt2(tiny_gpt2):
    lm = LMDescriptors(tiny_gpt2, max_new_tokens=10)
    assert lm.temperature == 0.9
    raw = lm.sample('duck', 6, seed=1)
    assert len(raw) == 6 and raw == lm.sample('duck', 6, seed=1) and raw != lm.sample('duck', 6, seed=2)
    ds = [lm('duck', np.random.default_rng(s)) for s in range(5)]
    assert all(not re.search(r'[,._\n]', d) and 'duck' not in d.lower() and d == d.strip() for d in ds)
    q = add_descriptors(['duck', 'cat'], lm, seed=0)
    assert q == add_descriptors(['duck', 'cat'], lm, seed=0) and q[0].endswith('duck') and q[1].endswith('cat')
    with pytest.raises(FileNotFoundError, match='model_dir'): LMDescriptors(tiny_gpt2/'nope')
    with pytest.raises(ValueError, match='temperature'): LMDescriptors(tiny_gpt2, temperature=0)

def test_lm_resamples_then_falls_back(tiny_gpt2, monkeypatch):
    lm = LMDescriptors(tiny_gpt2, per_round=2, max_rounds=3)
    rounds = iter([[' the duck', ''], [', x', ' fluffy, white'], [' never']])
    calls = []
    monkeypatch.setattr(lm, 'sample', lambda c, n, seed: (calls.append(seed), next(rounds))[1])
    assert lm('duck', np.random.default_rng(0)) == 'fluffy' and len(calls) == 2
    monkeypatch.setattr(lm, 'sample', lambda c, n, seed: [' duck'] * n)
    assert lm('duck', np.random.default_rng(0)) == ''
    assert add_descriptors(['duck'], lm) == ['duck']              # no descriptor after max_rounds

def test_wordnet_adjectives_and_static_lists():
    adjs = wordnet_visual_adjectives()
    assert {'frail', 'red', 'humongous', 'tall'} <= set(adjs) and adjs == sorted(set(adjs))
    assert not {'political', 'legal', 'financial'} & set(adjs)
    q = add_descriptors(['duck'] * 200, seed=0)
    assert q == add_descriptors(['duck'] * 200, seed=0) != add_descriptors(['duck'] * 200, seed=1)
    assert all(x[:-len(' duck')] in set(adjs) for x in q)
    assert len(FMOW_DESCRIPTORS) == 17 and add_descriptors('tennis court', 'fmow')[0][:-len(' tennis court')] in FMOW_DESCRIPTORS
    assert add_descriptors(['a', 'b'], ['x']) == ['x a', 'x b']
    half = add_descriptors(['duck'] * 400, ['x'], p=0.5, seed=0)
    assert 150 < sum(x == 'x duck' for x in half) < 250
    with pytest.raises(ValueError): add_descriptors([])
    with pytest.raises(ValueError): add_descriptors([''])
    with pytest.raises(ValueError): add_descriptors(['duck'], 'gpt-j')
    with pytest.raises(TypeError): add_descriptors(['duck'], 3)
    with pytest.raises(ValueError): StaticDescriptors([])
