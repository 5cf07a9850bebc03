"""Autoregressive generative classifier (thesis §4.3.3, Eq. 4.2, Table 4.2): batched C-pass scoring, objectives, save/load, bad input."""
import numpy as np
import pytest
import torch
from genrich.core import ShiftSplit
from genrich.autoregressive_classifier import AutoregressiveClassifier, AR_OBJECTIVES, token_logprobs, llama
from genrich.discriminative import pad_batch

torch.set_num_threads(1)
NOUNS = ['movie', 'plot', 'actor', 'scene', 'story', 'film']

def text_split(n, seed, n_classes=2):
    r = np.random.default_rng(seed); y = r.integers(0, n_classes, n)
    adj = ['bad', 'good', 'odd', 'fine'][:n_classes]
    return ShiftSplit([f"the {r.choice(NOUNS)} was {adj[t]} , {r.choice(NOUNS)}" for t in y], y, y)

@pytest.fixture(scope='module')
def fitted():
    tr, va = text_split(120, 0), text_split(60, 1)
    return {o: AutoregressiveClassifier(o, hidden_size=32, epochs=6, lr=3e-3, min_freq=1, random_state=0).fit(tr, va) for o in AR_OBJECTIVES}, va

@pytest.mark.parametrize('objective', AR_OBJECTIVES)
def test_each_objective_learns_separable_text(fitted, objective):
    clfs, va = fitted
    assert clfs[objective].evaluate(text_split(60, 2))['accuracy'] >= 0.95

def test_batched_scoring_equals_per_class_loop(fitted):
    clfs, va = fitted
    gen = clfs['generative']
    x = list(va.x[:15]) + ['the movie was good', 'film']              # mixed lengths -> padding in the batch
    b, l = gen.log_likelihoods(x), gen.log_likelihoods(x, batched=False)
    np.testing.assert_allclose(b, l, rtol=1e-5, atol=1e-4)
    gen.model_.double()                                             # in float64 they agree to 1e-9
    try: np.testing.assert_allclose(gen.log_likelihoods(x), gen.log_likelihoods(x, batched=False), rtol=0, atol=1e-9)
    finally: gen.model_.float()

def test_log_likelihood_is_sum_of_token_log_probs_by_hand(fitted):
    "Eq. 4.2 computed token by token with the full softmax, independently of token_logprobs."
    gen = fitted[0]['generative']
    toks = gen.tokenizer_.encode('the plot was bad , actor')
    for c in range(2):
        seq = gen._sequence(toks, c)
        with torch.no_grad(): logits = gen.model_(input_ids=torch.tensor([seq])).logits[0].double()
        ref = sum(torch.log_softmax(logits[i], -1)[seq[i + 1]].item() for i in range(len(seq) - 1))
        assert gen.log_likelihoods(['the plot was bad , actor'])[0, c] == pytest.approx(ref, abs=1e-4)

def test_three_classes_and_prior(fitted):
    tr, va = text_split(150, 3, 3), text_split(60, 4, 3)
    clf = AutoregressiveClassifier(hidden_size=32, epochs=6, lr=3e-3, min_freq=1, prior='train', random_state=0).fit(tr, va)
    assert clf.evaluate(va)['accuracy'] >= 0.9
    ll = clf.log_likelihoods(va.x)
    assert ll.shape == (60, 3)
    p = np.exp(ll + clf.log_prior_); p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(va.x), p, atol=1e-9)

def test_padding_is_masked():
    torch.manual_seed(0); lm = llama(30, hidden_size=16, num_heads=2, max_length=10).eval()
    ids, m = pad_batch([[4, 5, 6, 7, 8], [4, 5]])
    with torch.no_grad():
        lp = token_logprobs(lm, ids, m); alone = token_logprobs(lm, ids[1:, :2], m[1:, :2])
    assert lp[1, 1:].abs().sum() == 0 and lp[1, 0].item() == pytest.approx(alone[0, 0].item(), abs=1e-6)

def test_save_pretrained_round_trip(fitted, tmp_path):
    clfs, va = fitted
    for o, clf in clfs.items():
        clf.save_pretrained(tmp_path/o)
        back = AutoregressiveClassifier.from_pretrained(tmp_path/o)
        np.testing.assert_array_equal(back.predict_proba(va.x), clf.predict_proba(va.x))
        assert back.objective == o and back.get_params() == clf.get_params()

def test_seeded_runs_repeat():
    tr = text_split(40, 5)
    a, b = [AutoregressiveClassifier(hidden_size=16, epochs=1, min_freq=1, random_state=1).fit(tr).log_likelihoods(tr.x) for _ in range(2)]
    np.testing.assert_array_equal(a, b)

def test_bad_inputs(fitted):
    clfs, va = fitted
    with pytest.raises(ValueError, match="max_length=128"): clfs['generative'].predict(['good ' * 127])
    clfs['generative'].predict(['good ' * 126])                     # 126 words + 2 special tokens fit exactly
    with pytest.raises(ValueError, match="max_length=8"):
        AutoregressiveClassifier(max_length=8, epochs=1, min_freq=1).fit(ShiftSplit(['a b', 'c d e f g h i j'], [0, 1], [0, 1]))
    with pytest.raises(ValueError, match="objective='bert' is not allowed"): AutoregressiveClassifier('bert').fit(va)
    bad = text_split(10, 9); bad.y = bad.y + 7
    with pytest.raises(ValueError, match='not in classes_'): AutoregressiveClassifier(epochs=1).fit(va, bad)
    mism = text_split(10, 9); mism.g = mism.g[:3]
    with pytest.raises(ValueError, match='g has shape'): AutoregressiveClassifier(epochs=1).fit(mism)
    with pytest.raises(ValueError, match='divisible'): AutoregressiveClassifier(hidden_size=30, num_heads=4).fit(va)
    with pytest.raises(TypeError, match='list of strings'): clfs['generative'].predict(np.zeros((3, 2)))

def test_class_head_equals_full_lm_logits(fitted):
    "The restricted head used for p(y|x) equals the full LM's logits at the class tokens."
    clf = fitted[0]['class_last']
    ids = torch.tensor([[2] + clf.tokenizer_.encode('the plot was good , actor')])
    with torch.no_grad():
        full = clf.model_(input_ids=ids).logits[0, -1, clf.class_token_ids_]
        head = clf._class_logits(ids, torch.ones_like(ids), torch.tensor([ids.shape[1] - 1]))[0]
    torch.testing.assert_close(head, full, rtol=1e-5, atol=1e-5)
