"""ConceptGPR (§2.1.5) against scikit-learn's GaussianProcessRegressor: posterior, marginal likelihood, chunking, bad input."""
import numpy as np, pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel as C, RBF, WhiteKernel
from genrich.explorer.reward_model import ConceptGPR, exploration_scores

def data(n=150, m=700, d=24, seed=1, noise=0.1):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n + m, d)); X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.sin(3*X[:, 0]) + X[:, 1]**2 + noise*r.normal(size=n + m)
    return X[:n], y[:n], X[n:]

@pytest.mark.parametrize('precision', ['float64', 'mixed'])
@pytest.mark.parametrize('a,l,s2', [(1.0, 0.8, 0.1), (2.5, 0.4, 1e-3), (0.5, 1.5, 1e-5)])
def test_matches_sklearn_fixed_kernel(precision, a, l, s2):
    Xo, yo, Xq = data()
    sk = GaussianProcessRegressor(C(a, 'fixed')*RBF(l, 'fixed'), alpha=s2, normalize_y=True, optimizer=None).fit(Xo, yo)
    mu_r, sd_r = sk.predict(Xq, return_std=True)
    mu, sd = ConceptGPR(amplitude=a, length_scale=l, noise=s2, optimize=False, precision=precision, chunk_size=256).fit(Xo, yo).predict(Xq, return_std=True)
    np.testing.assert_allclose(mu, mu_r, atol=1e-4); np.testing.assert_allclose(sd, sd_r, atol=1e-4)

def test_chunk_size_does_not_change_result():
    Xo, yo, Xq = data()
    a = ConceptGPR(optimize=False, precision='float64', chunk_size=7).fit(Xo, yo).predict(Xq, return_std=True)
    b = ConceptGPR(optimize=False, precision='float64', chunk_size=10_000).fit(Xo, yo).predict(Xq, return_std=True)
    np.testing.assert_allclose(a[0], b[0], atol=1e-12); np.testing.assert_allclose(a[1], b[1], atol=1e-12)

def test_marginal_likelihood_fit_reaches_sklearn_optimum():
    Xo, yo, _ = data(n=120)
    g = ConceptGPR(amplitude=1.0, length_scale=1.0, noise=0.5).fit(Xo, yo)
    yn = (yo - yo.mean())/yo.std()
    sk = GaussianProcessRegressor(C(1.0, (1e-3, 1e3))*RBF(1.0, (1e-2, 1e2)) + WhiteKernel(0.5, (1e-5, 1e1)), n_restarts_optimizer=2, random_state=0).fit(Xo, yn)
    assert g.log_marginal_likelihood_value_ >= sk.log_marginal_likelihood_value_ - 1e-3
    theta = np.log([g.amplitude_, g.length_scale_, g.noise_])
    np.testing.assert_allclose(sk.log_marginal_likelihood(theta), g.log_marginal_likelihood_value_, rtol=1e-8)

def test_interpolates_noise_free_and_sigma_vanishes_at_data():
    Xo, yo, _ = data(n=40, noise=0.0)
    g = ConceptGPR(noise=1e-5, optimize=False, length_scale=0.5, precision='float64').fit(Xo, yo)
    mu, sd = g.predict(Xo, return_std=True)
    np.testing.assert_allclose(mu, yo, atol=1e-3); assert sd.max() < 1e-2

def test_exploration_scores():
    Xo, yo, Xq = data(n=50, m=60)
    X = np.concatenate([Xo, Xq]); idx = np.r_[np.arange(50), 3]; r = np.r_[yo, yo[3] + 2]
    g = ConceptGPR(optimize=False).fit(X[idx], r)
    s = exploration_scores(g, X, idx, r)
    mu, sd = g.predict(Xq, return_std=True)
    np.testing.assert_allclose(s[50:], mu + sd); assert s[3] == pytest.approx(yo[3] + 1)
    np.testing.assert_allclose(np.delete(s[:50], 3), np.delete(yo, 3))

def test_bad_input():
    Xo, yo, Xq = data(n=20, m=5)
    g = ConceptGPR(optimize=False).fit(Xo, yo)
    with pytest.raises(ValueError, match='X has 3 features, but ConceptGPR is expecting 24'): g.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match='inconsistent numbers of samples'): ConceptGPR().fit(Xo, yo[:3])
    with pytest.raises(ValueError, match='NaN'): ConceptGPR().fit(np.full_like(Xo, np.nan), yo)
    with pytest.raises(ValueError, match='not fitted'): ConceptGPR().predict(Xq)
    with pytest.raises(ValueError, match='obs_idx has shape'): exploration_scores(g, Xq, [0, 1], [1.0])

from sklearn.utils.estimator_checks import parametrize_with_checks

@parametrize_with_checks([ConceptGPR(precision='float64', chunk_size=7, optimize=False)])
def test_sklearn_estimator_contract(estimator, check):
    "scikit-learn's estimator checks, in double precision (mixed precision is only promised to 1e-4, not batch-invariant to 1e-7)."
    check(estimator)

@pytest.mark.parametrize('precision', ['float64', 'mixed'])
def test_update_equals_refit_and_sklearn(precision):
    "update() in two steps, with the variance terms reused across predicts, equals a fit on all observations and scikit-learn."
    Xo, yo, Xq = data(n=180, m=500)
    kw = dict(amplitude=1.3, length_scale=0.7, noise=0.02, optimize=False, precision=precision, chunk_size=128)
    full = ConceptGPR(**kw).fit(Xo, yo)
    g = ConceptGPR(**kw).fit(Xo[:100], yo[:100]); g.predict(Xq, return_std=True)
    g.update(Xo[100:140], yo[100:140]); g.predict(Xq, return_std=True)
    assert g._vcache['rows'] == 140
    mu, sd = g.update(Xo[140:], yo[140:]).predict(Xq, return_std=True)
    np.testing.assert_allclose(g.L_.numpy(), full.L_.numpy(), atol=1e-10)
    assert g.log_marginal_likelihood_value_ == pytest.approx(full.log_marginal_likelihood_value_, abs=1e-8)
    mf, sf = full.predict(Xq, return_std=True)
    np.testing.assert_allclose(mu, mf, atol=1e-6); np.testing.assert_allclose(sd, sf, atol=2e-5)
    sk = GaussianProcessRegressor(C(1.3, 'fixed')*RBF(0.7, 'fixed'), alpha=0.02, normalize_y=True, optimizer=None).fit(Xo, yo)
    mu_r, sd_r = sk.predict(Xq, return_std=True)
    np.testing.assert_allclose(mu, mu_r, atol=1e-4); np.testing.assert_allclose(sd, sd_r, atol=1e-4)

def test_variance_reuse_only_for_the_same_queries():
    "A predict on other queries (or after a refit) must not reuse the cached variance terms."
    Xo, yo, Xq = data(n=80, m=300)
    kw = dict(optimize=False, precision='float64')
    g = ConceptGPR(**kw).fit(Xo[:60], yo[:60]); g.predict(Xq, return_std=True)
    g.update(Xo[60:], yo[60:])
    Xq2 = Xq.copy(); Xq2[0, 0] += 1e-3
    ref = ConceptGPR(**kw).fit(Xo, yo)
    np.testing.assert_allclose(g.predict(Xq2, return_std=True)[1], ref.predict(Xq2, return_std=True)[1], atol=1e-10)
    g.fit(Xo[:30], yo[:30]); assert g._vcache is None
    np.testing.assert_allclose(g.predict(Xq, return_std=True)[1], ConceptGPR(**kw).fit(Xo[:30], yo[:30]).predict(Xq, return_std=True)[1], atol=1e-12)

def test_update_bad_input():
    Xo, yo, _ = data(n=20, m=5)
    g = ConceptGPR(optimize=False).fit(Xo[:10], yo[:10])
    with pytest.raises(ValueError, match=r'y_new must have shape \(5,\)'): g.update(Xo[10:15], yo[10:13])
    with pytest.raises(ValueError, match='X has 3 features'): g.update(np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(ValueError, match='y_new contains NaN'): g.update(Xo[10:12], [np.nan, 1.0])
    with pytest.raises(ValueError, match='not fitted'): ConceptGPR().update(Xo, yo)
    assert g.update(Xo[:0], yo[:0]).X_train_.shape[0] == 10

@pytest.mark.parametrize('precision', ['float64', 'mixed'])
def test_rebuilt_model_replays_bit_for_bit(precision):
    "A refit from the fitted hyperparameters is the same model: replaying fit/predict/update/predict gives identical numbers; cold agrees to rounding."
    Xo, yo, Xq = data(n=200, m=400)
    a = ConceptGPR(precision=precision, chunk_size=100).fit(Xo[:120], yo[:120]); a.predict(Xq, return_std=True)
    for s, e in ((120, 170), (170, 170), (170, 200)): a.update(Xo[s:e], yo[s:e]); ma, sa = a.predict(Xq, return_std=True)
    kw = dict(precision=precision, chunk_size=100, optimize=False, amplitude=a.amplitude_, length_scale=a.length_scale_, noise=a.noise_)
    b = ConceptGPR(**kw).fit(Xo[:120], yo[:120]); b.predict(Xq, return_std=True)
    for s, e in ((120, 170), (170, 170), (170, 200)): b.update(Xo[s:e], yo[s:e]); mb, sb = b.predict(Xq, return_std=True)
    assert (b.amplitude_, b.length_scale_, b.noise_) == (a.amplitude_, a.length_scale_, a.noise_)
    assert np.array_equal(ma, mb) and np.array_equal(sa, sb)
    c = ConceptGPR(**kw).fit(Xo[:120], yo[:120]).update(Xo[120:170], yo[120:170]).update(Xo[170:], yo[170:])
    mc, sc = c.predict(Xq, return_std=True)
    np.testing.assert_allclose(mc, ma, atol=1e-9); np.testing.assert_allclose(sc, sa, atol=1e-6)
