"""Tests of the diffusion-based generative classifier and the PCA patch embedding (genrich.diffusion_generative)."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from genrich.core import ShiftSplit
from genrich.diffusion_generative import PatchPCA, DiffusionGenerativeClassifier, separable_images, as_model_input

torch.set_num_threads(1)
TINY = dict(block_out_channels=(8, 16), steps=150, lr=5e-3, eval_every=75, n_trials=8)

@pytest.fixture(scope='module')
def data(): return separable_images(128, seed=0), separable_images(32, seed=1), separable_images(40, seed=2)

@pytest.fixture(scope='module')
def fitted(data, tmp_path_factory):
    tr, va, _ = data
    d = tmp_path_factory.mktemp('ddpm')
    return DiffusionGenerativeClassifier(**TINY, out_dir=d, random_state=0).fit(tr, va), d

def _patches(x, p):
    n, C, H, W = x.shape
    return x.reshape(n, C, H // p, p, W // p, p).transpose(0, 2, 4, 1, 3, 5).reshape(-1, C * p * p)

def test_patch_pca_matches_sklearn():
    x = np.random.default_rng(0).normal(size=(30, 3, 8, 8)) * np.linspace(0.5, 3, 8) + 2
    pca = PatchPCA(patch_size=4, n_components=6).fit(x)
    sk = PCA(6, whiten=True).fit(_patches(x, 4))
    signs = np.sign(np.sum(pca.components_ * sk.components_, 1))
    np.testing.assert_allclose(pca.components_, sk.components_ * signs[:, None], atol=1e-8)
    np.testing.assert_allclose(pca.singular_values_, sk.singular_values_, rtol=1e-8)
    z = pca.transform(x).double().permute(0, 2, 3, 1).reshape(-1, 6).numpy()     # latents = sklearn's whitened scores
    np.testing.assert_allclose(z, sk.transform(_patches(x, 4)) * signs, atol=1e-4)

def test_patch_pca_inverts_on_its_span(tmp_path):
    x = np.random.default_rng(1).normal(size=(20, 3, 8, 8))
    pca = PatchPCA(4, 5).fit(x)
    z = pca.transform(x)
    np.testing.assert_allclose(pca.transform(pca.inverse_transform(z)).numpy(), z.numpy(), atol=1e-4)
    y = pca.inverse_transform(z)                                                    # a point of the span
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(y)).numpy(), y.numpy(), atol=1e-4)
    full = PatchPCA(4, 48).fit(x)
    np.testing.assert_allclose(full.inverse_transform(full.transform(x)).double().numpy(), x, atol=1e-4)
    pca.save(tmp_path / 'p.safetensors'); back = PatchPCA.load(tmp_path / 'p.safetensors')
    np.testing.assert_array_equal(back.transform(x).numpy(), z.numpy())

def test_patch_pca_bad_input():
    x = np.zeros((2, 3, 8, 8))
    with pytest.raises(ValueError, match='patch_size=3'): PatchPCA(3).fit(x)
    with pytest.raises(ValueError, match='n_components=49'): PatchPCA(4, 49).fit(x)
    with pytest.raises(RuntimeError, match='not fitted'): PatchPCA(4).transform(x)
    with pytest.raises(ValueError, match='channels'): PatchPCA(4, 2).fit(np.random.rand(4, 3, 8, 8)).transform(np.zeros((1, 1, 8, 8)))

def test_learns_separable_fixture(fitted, data):
    clf, _ = fitted; te = data[2]
    assert np.mean(clf.predict(te.x) == te.y) >= 0.95
    p = clf.predict_proba(te.x)
    assert p.shape == (len(te.y), 2) and np.allclose(p.sum(1), 1)
    assert np.array_equal(clf.classes_[p.argmax(1)], clf.predict(te.x))
    assert [h['step'] for h in clf.history_] == [75, 150] and clf.best_step_ in (75, 150)
    assert clf.diffusion_loss(te.x, te.y).mean() < clf.diffusion_loss(te.x, 1 - te.y).mean()

def test_reload_and_seeded(fitted, data):
    clf, d = fitted; tr, va, te = data
    again = DiffusionGenerativeClassifier(**TINY, out_dir=d, random_state=0).fit(tr, va)       # loads the snapshots
    np.testing.assert_array_equal(again.predict_proba(te.x), clf.predict_proba(te.x))
    with pytest.raises(ValueError, match='other data or settings'):
        DiffusionGenerativeClassifier(**{**TINY, 'lr': 1e-3}, out_dir=d).fit(tr, va)
    assert clone(clf).get_params() == clf.get_params()

def test_pca_latent(data, tmp_path):
    tr, va, te = data
    clf = DiffusionGenerativeClassifier('pca', patch_size=4, n_components=4, block_out_channels=(16,), steps=150, lr=5e-3,
                                        n_trials=8, out_dir=tmp_path).fit(tr, va)
    assert clf.sample_shape_ == (4, 2, 2)
    assert np.mean(clf.predict(te.x) == te.y) >= 0.9

def test_bad_input(fitted, data):
    clf, _ = fitted; tr, va, te = data
    with pytest.raises(ValueError, match="latent='vae'"): DiffusionGenerativeClassifier('vae').fit(tr)
    bad_val = ShiftSplit(va.x, np.where(va.y == 1, 7, va.y), va.g)
    with pytest.raises(ValueError, match=r'labels \[7\]'): DiffusionGenerativeClassifier(**TINY).fit(tr, bad_val)
    with pytest.raises(ValueError, match='not in classes_'): clf.diffusion_loss(te.x, te.y + 5)
    with pytest.raises(ValueError, match='not in classes_'): clf.evaluate(ShiftSplit(te.x, te.y + 2, te.g))
    with pytest.raises(ValueError, match='per-image shape'): clf.predict(np.zeros((2, 12, 12, 3), np.uint8))
    with pytest.raises(ValueError, match='steps'): DiffusionGenerativeClassifier(steps=0).fit(tr)
    with pytest.raises(ValueError, match='uint8 images'): as_model_input(np.zeros((2, 8), np.int64))

def test_adaptive_for_many_classes(tmp_path):
    r = np.random.default_rng(0); y = np.arange(42) % 7
    x = r.integers(0, 255, (42, 8, 8, 3)).astype(np.uint8)
    clf = DiffusionGenerativeClassifier(block_out_channels=(8,), steps=2, n_trials=2, out_dir=tmp_path).fit(ShiftSplit(x, y, y))
    err = clf.class_errors(x[:3])
    assert err.shape == (3, 7) and (np.isnan(err).sum(1) == 2).all()                   # top 5 kept after the first stage
    p = clf.predict_proba(x[:3]); assert np.allclose(p.sum(1), 1) and ((p == 0).sum(1) == 2).all()
