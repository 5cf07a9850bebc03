"""Diffusion Classifier estimator (thesis ch. 3, Alg. 2/3, Eqs. 3.6-3.8): correctness against closed forms and bad input."""
import numpy as np, pytest, torch
from genrich.diffusion_classifier import (DiffusionClassifier, NoiseSet, gaussian_toy_eps, make_noise_set, eps_error,
                                          coarse_to_fine)

torch.set_num_threads(1)

def linear_acp(T=1000):
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()

ACP = linear_acp()
D = 12

def toy(n_classes=2, s=1.0, n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    means = torch.zeros(n_classes, D); means[:, :n_classes] = 1.5*torch.eye(n_classes)
    y = torch.randint(0, n_classes, (n,), generator=g)
    return means, means[y] + s*torch.randn(n, D, generator=g), y

def test_point_mass_perfect_denoiser_has_zero_error_for_true_class():
    means, _, _ = toy(2)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 0.0, ACP), ACP, trials=(16,), timesteps='uniform')
    err = clf.class_errors(means, torch.arange(2))
    assert np.allclose(np.diag(err), 0, atol=1e-10) and (err[[0, 1], [1, 0]] > 1e-3).all()
    assert list(clf.predict(means, torch.arange(2))) == [0, 1]

def test_gaussian_toy_matches_bayes_nearest_mean_rule():
    means, X, y = toy(3, s=1.0, n=150)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 1.0, ACP), ACP, trials=(300,), batch_size=5000)
    pred = clf.predict(X, torch.arange(3))
    d2 = torch.cdist(X, means)**2
    bayes = d2.argmin(1).numpy()                                     # equal isotropic covariances -> nearest mean
    gap = (d2.sort(1).values[:, 1] - d2.min(1).values).numpy()
    assert (pred == bayes).mean() >= 0.9
    assert (pred == bayes)[gap > 1.0].mean() >= 0.98                 # wherever the Bayes rule is not a near tie
    assert (pred == y.numpy()).mean() > 0.6

def test_expected_error_difference_matches_closed_form():
    # E_eps[err_c] - E_eps[err_c'] = k_t^2 a_t (||x-mu_c||^2 - ||x-mu_c'||^2) / D  (mean over elements), averaged over S's t
    means, X, _ = toy(2, s=1.0, n=3)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 1.0, ACP), ACP, trials=(4000,), timesteps='even', batch_size=4000)
    err = clf.class_errors(X, torch.arange(2))
    t = clf.noise_set((D,)).t[0]; a = ACP[t].double(); k = (1 - a).sqrt()/(a + 1 - a)
    w = (k**2*a).mean().item()
    dist = torch.cdist(X.double(), means.double())**2
    expect = w*(dist[:, 0] - dist[:, 1]).numpy()/D
    assert np.allclose(err[:, 0] - err[:, 1], expect, atol=0.02*np.abs(expect).max() + 1e-3)

def test_adaptive_keep_all_equals_exhaustive_and_batching_invariance():
    means, X, _ = toy(4, s=0.7, n=10)
    m = gaussian_toy_eps(means, 0.7, ACP)
    ex = DiffusionClassifier(m, ACP, trials=(25,), batch_size=64).class_errors(X, torch.arange(4))
    ad = DiffusionClassifier(m, ACP, keep=(4,), trials=(25,), batch_size=64).class_errors(X, torch.arange(4))
    np.testing.assert_array_equal(ad, ex)
    for bs in (1, 9, 10_000):
        np.testing.assert_allclose(DiffusionClassifier(m, ACP, trials=(25,), batch_size=bs).class_errors(X, torch.arange(4)), ex, rtol=1e-6, atol=1e-9)
    split = np.concatenate([DiffusionClassifier(m, ACP, trials=(25,)).class_errors(X[i:i + 3], torch.arange(4)) for i in range(0, 10, 3)])
    np.testing.assert_allclose(split, ex, rtol=1e-6, atol=1e-9)
    # classes in another order give the same per-class errors (same S, paired)
    perm = torch.tensor([2, 0, 3, 1])
    np.testing.assert_allclose(DiffusionClassifier(m, ACP, trials=(25,)).class_errors(X, perm), ex[:, perm.numpy()], rtol=1e-6, atol=1e-9)

def test_adaptive_prunes_and_counts_evaluations():
    means, X, _ = toy(4, s=0.7, n=6)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 0.7, ACP), ACP, keep=(2, 1), trials=(10, 40))
    err = clf.class_errors(X, torch.arange(4))
    assert (np.isnan(err).sum(1) == 3).all() and clf.n_evals_ == 6*(4*10 + 2*30)
    p = clf.predict_proba(X, torch.arange(4))
    assert np.allclose(p.sum(1), 1) and ((p > 0).sum(1) == 1).all()
    # survivors of stage 1 are the two lowest stage-1 errors
    s1 = clf.stage_errors_[0]
    assert all(set(np.argsort(s1[i])[:2]) == set(np.flatnonzero(~np.isnan(clf.stage_errors_[1][i]))) for i in range(6))

def test_predict_proba_is_softmax_of_negative_errors():
    means, X, _ = toy(3, n=5)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 1.0, ACP), ACP, trials=(10,))
    err = clf.class_errors(X, torch.arange(3))
    p = clf.predict_proba(X, torch.arange(3), temperature=0.05)
    ref = torch.softmax(torch.tensor(-err/0.05), 1).numpy()
    np.testing.assert_allclose(p, ref, rtol=1e-6)

def test_noise_set_is_seeded_saveable_and_ordered(tmp_path):
    S = make_noise_set((3, 4, 4), 20, 1000, seed=5)
    assert torch.equal(S.eps, make_noise_set((3, 4, 4), 20, 1000, seed=5).eps)
    S.save(tmp_path/'s.safetensors'); S2 = NoiseSet.load(tmp_path/'s.safetensors')
    assert torch.equal(S2.t, S.t) and torch.equal(S2.eps, S.eps)
    assert sorted(coarse_to_fine(7).tolist()) == list(range(7))
    assert sorted(S.t[0].tolist()) == [int((i + .5)*50) for i in range(20)]

def test_losses():
    e, p = torch.zeros(1, 4), torch.tensor([[0.5, -2., 1., 0.]])
    assert eps_error(e, p, 'l2').item() == pytest.approx((0.25 + 4 + 1)/4)
    assert eps_error(e, p, 'l1').item() == pytest.approx(3.5/4)
    assert eps_error(e, p, 'huber').item() == pytest.approx((0.125 + 1.5 + 0.5)/4)

class Shaped:
    sample_shape = (1, 8, 8)
    def __call__(self, xt, t, c): return torch.zeros_like(xt)

@pytest.mark.parametrize('kwargs, call, match', [
    ({}, lambda c: c.predict(torch.zeros(2, 3, 8, 8), [0, 1]), r'model expects \(1, 8, 8\)'),
    ({}, lambda c: c.predict(torch.zeros(2, 1, 8, 8), []), 'conds is empty'),
    ({}, lambda c: c.predict(torch.full((2, 1, 8, 8), float('inf')), [0, 1]), 'x contains NaN or inf'),
    ({'keep': (3, 3, 1), 'trials': (1, 2, 3)}, None, 'strictly decreasing'),
    ({'keep': (3, 2), 'trials': (1, 2)}, None, 'must end in 1'),
    ({'keep': (3, 1), 'trials': (5, 5)}, None, 'strictly increasing'),
    ({'timesteps': '0,500,1000'}, None, r'outside \[0, 1000\)'),
    ({'timesteps': [-3]}, None, 'outside'),
    ({'loss': 'mse'}, None, "loss='mse'"),
])
def test_bad_input(kwargs, call, match):
    with pytest.raises(ValueError, match=match):
        c = DiffusionClassifier(Shaped(), ACP, **kwargs)
        if call: call(c)

def test_candidates_and_evaluate_dataset_resume(tmp_path):
    from genrich.diffusion_classifier import evaluate_dataset, topk_candidates, winoground_scores
    import json
    means, X, y = toy(4, s=0.7, n=9)
    clf = DiffusionClassifier(gaussian_toy_eps(means, 0.7, ACP), ACP, trials=(12,))
    full = clf.class_errors(X, torch.arange(4))
    cand = topk_candidates(-full, 2)
    pr = clf.class_errors(X, torch.arange(4), candidates=cand)
    np.testing.assert_array_equal(np.isnan(pr), ~cand); np.testing.assert_allclose(pr[cand], full[cand], rtol=1e-6)
    s0 = evaluate_dataset(clf, X, y, torch.arange(4), tmp_path, n_workers=3, worker_idx=0, chunk=2)
    assert s0['n_done'] == 3
    for w in (1, 2): s = evaluate_dataset(clf, X, y, torch.arange(4), tmp_path, n_workers=3, worker_idx=w)
    assert s['n_done'] == 9 and s['accuracy'] == pytest.approx((np.nanargmin(full, 1) == y.numpy()).mean())
    before = (tmp_path/'records'/'4.json').read_text(); (tmp_path/'records'/'7.json').unlink()
    assert evaluate_dataset(clf, X, y, torch.arange(4), tmp_path, n_workers=3, worker_idx=1)['n_done'] == 9
    assert (tmp_path/'records'/'4.json').read_text() == before
    np.testing.assert_allclose(json.loads((tmp_path/'records'/'7.json').read_text())['errors'], full[7], rtol=1e-6)
    w = winoground_scores(np.array([[2., 1.], [0., 3.]]))
    assert w['text'] and w['image'] and w['group']

def test_eps_shared_models_get_each_x_t_once_and_cfg_variants_match():
    means, x, y = toy(n_classes=3, n=6)
    f = gaussian_toy_eps(torch.cat([means, torch.zeros(1, D)]), 1.0, ACP)      # conditioning 3 = null
    class Shared:
        rows = 0
        def __call__(self, xt, t, c): return f(xt, t, c)
        def eps_shared(self, xt, t, index, c): Shared.rows += len(xt); return f(xt[index], t[index], c)
    ref = DiffusionClassifier(f, ACP, trials=(8,), batch_size=12).class_errors(x, torch.arange(3))
    np.testing.assert_allclose(DiffusionClassifier(Shared(), ACP, trials=(8,), batch_size=12).class_errors(x, torch.arange(3)), ref, rtol=1e-12)
    assert Shared.rows == 6*8                                                     # batches of 12 = 4 x_t times 3 classes
    clf = DiffusionClassifier(f, ACP, trials=(8,), null_cond=3)
    E = clf.trial_errors(x, torch.arange(3), variants=[('l2', 0, 0.0), ('l2', 0, 2.0)])
    np.testing.assert_allclose(E[..., 0].mean(1), ref, rtol=1e-12)
    cfg = DiffusionClassifier(f, ACP, trials=(8,), null_cond=3, cfg_weight=2.0).class_errors(x, torch.arange(3))
    np.testing.assert_allclose(E[..., 1].mean(1), cfg, rtol=1e-12)
    with pytest.raises(ValueError, match='null_cond'):
        DiffusionClassifier(f, ACP, trials=(8,)).trial_errors(x, torch.arange(3), variants=[('l2', 0, 1.0)])
