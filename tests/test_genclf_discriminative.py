"""Chapter-4 estimator API and discriminative baselines (ERM, RWY/DFR, JTT, LfF) on separable fixtures."""
import numpy as np
import pytest
import torch
from genrich.core import ShiftSplit
from genrich.discriminative import (DiscriminativeClassifier, DISCRIMINATIVE_METHODS, WordTokenizer, ResNet, check_split,
                                    select_best, label_index)

torch.set_num_threads(1)

def blobs(n, seed, rho=0.5):
    "Label on axis 0 (separable); attribute on axis 1, agreeing with the label with probability rho."
    r = np.random.default_rng(seed); y = r.integers(0, 2, n); a = np.where(r.random(n) < rho, y, 1 - y)
    return ShiftSplit(np.c_[4.0 * y - 2 + 0.3 * r.normal(size=n), a + 0.3 * r.normal(size=n)], y, 2 * y + a, a)

def text_split(n, seed):
    r = np.random.default_rng(seed); y = r.integers(0, 2, n)
    nouns = ['movie', 'plot', 'actor', 'scene']
    return ShiftSplit([f"the {r.choice(nouns)} was {'good' if t else 'bad'} ." for t in y], y, y)

def image_split(n, seed):
    r = np.random.default_rng(seed); y = r.integers(0, 2, n)
    return ShiftSplit((r.uniform(0, 0.3, (n, 1, 8, 8)) + 0.6 * y[:, None, None, None]).astype(np.float32), y, y)

@pytest.mark.parametrize('method', DISCRIMINATIVE_METHODS)
def test_each_method_learns_separable_vectors(method):
    tr, va = blobs(200, 0, rho=0.9), blobs(200, 1)
    clf = DiscriminativeClassifier(method, epochs=4, lr=1e-2, random_state=0).fit(tr, va)
    ev = clf.evaluate(va)
    assert ev['worst_group_accuracy'] >= 0.95 and ev['accuracy'] >= 0.97
    np.testing.assert_allclose(clf.predict_proba(va.x).sum(1), 1, atol=1e-9)

@pytest.mark.parametrize('method', ['erm', 'jtt'])
def test_text_transformer_learns_separable_text(method):
    # JTT's identification model must first learn something (T=5 epochs), else its error set is a whole class
    clf = DiscriminativeClassifier(method, epochs=6, jtt_epochs=5, lr=1e-2, min_freq=1, width=32, random_state=0).fit(text_split(120, 0), text_split(60, 1))
    assert clf.evaluate(text_split(60, 2))['accuracy'] >= 0.95
    assert clf.arch_ == 'transformer'

def test_resnet_learns_separable_images():
    clf = DiscriminativeClassifier('lff', epochs=3, lr=1e-2, width=16, random_state=0).fit(image_split(100, 0), image_split(50, 1))
    assert clf.evaluate(image_split(60, 2))['accuracy'] >= 0.95

def test_seeded_runs_repeat_exactly():
    tr = blobs(100, 0)
    p = [DiscriminativeClassifier('lff', epochs=2, random_state=7).fit(tr).predict_proba(tr.x) for _ in range(2)]
    np.testing.assert_array_equal(p[0], p[1])
    q = DiscriminativeClassifier('lff', epochs=2, random_state=8).fit(tr).predict_proba(tr.x)
    assert not np.array_equal(p[0], q)

def test_model_selection_uses_class_balanced_accuracy_not_groups():
    tr, va = blobs(100, 0), blobs(100, 1)
    clf = DiscriminativeClassifier('erm', epochs=3, lr=1e-2, random_state=0).fit(tr, va)
    best = max(h['val_class_balanced_accuracy'] for h in clf.history_)
    assert clf.history_[clf.best_epoch_ - 1]['val_class_balanced_accuracy'] == best
    # shuffling the validation groups changes nothing: groups are never read
    va2 = ShiftSplit(va.x, va.y, np.random.default_rng(0).permutation(va.g))
    clf2 = DiscriminativeClassifier('erm', epochs=3, lr=1e-2, random_state=0).fit(tr, va2)
    np.testing.assert_array_equal(clf.predict_proba(va.x), clf2.predict_proba(va.x))

def test_bad_inputs():
    tr = blobs(50, 0)
    with pytest.raises(ValueError, match="method='svm' is not allowed"): DiscriminativeClassifier('svm').fit(tr)
    bad = blobs(50, 1); bad.y = np.where(bad.y == 1, 5, 0)
    with pytest.raises(ValueError, match=r'labels \[5\]'): DiscriminativeClassifier(epochs=1).fit(tr, bad)
    mism = blobs(50, 2); mism.g = mism.g[:10]
    with pytest.raises(ValueError, match='g has shape'): DiscriminativeClassifier(epochs=1).fit(mism)
    with pytest.raises(ValueError, match='g has'): ShiftSplit(np.zeros((3, 2)), [0, 1, 0], [0, 1])
    with pytest.raises(TypeError, match='ShiftSplit'): DiscriminativeClassifier().fit((tr.x, tr.y))
    with pytest.raises(ValueError, match='needs image inputs'): DiscriminativeClassifier(arch='resnet').fit(tr)
    with pytest.raises(ValueError, match='max_length=16'):
        DiscriminativeClassifier(max_length=16, epochs=1, min_freq=1).fit(ShiftSplit(['a b'] * 3 + ['x ' * 40], [0, 1, 0, 1], [0] * 4))
    with pytest.raises(RuntimeError, match='not fitted'): DiscriminativeClassifier().predict(tr.x)

def test_select_best_picks_highest_val_cb_accuracy():
    tr, va = blobs(100, 0), blobs(100, 1)
    best, runs = select_best(lambda **k: DiscriminativeClassifier('erm', epochs=2, **k), [{'lr': 1e-6}, {'lr': 1e-2}], tr, va)
    assert best.lr == 1e-2 and runs[1][1] >= runs[0][1]

def test_tokenizer_and_resnet_round_trip(tmp_path):
    tok = WordTokenizer(min_freq=2).fit(['a a b', 'b c'])
    assert tok.vocab_[4:] == ['a', 'b'] and tok.encode('c a') == [tok.unk_id, 4]
    tok.save(tmp_path/'t.json'); assert WordTokenizer.load(tmp_path/'t.json').encode('c a') == tok.encode('c a')
    net = ResNet(in_channels=3, num_classes=4, widths=(8, 16), blocks=(1, 2)).eval()
    net.save_pretrained(tmp_path/'r'); net2 = ResNet.from_pretrained(tmp_path/'r').eval()
    x = torch.randn(2, 3, 12, 12)
    torch.testing.assert_close(net(x), net2(x))
    assert label_index(np.array([3, 7]), [7, 7, 3]).tolist() == [1, 1, 0]
