"""The Gaussian shortcut study (thesis sec. 4.5): data, estimators, exact metrics, sweep, CLI."""
import subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks
from genrich.shortcut import (make_shortcut_data, LDA, MaxMarginLogistic, LinearSVM, group_accuracies, shortcut_metrics,
                              sweep, phase_labels, GROUPS)

GENRICH = str(Path(sys.executable).parent/'genrich')

@pytest.fixture(autouse=True)
def _one_blas_thread():
    "Many small solves: one BLAS thread avoids oversubscription on small shared machines."
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1): yield

# --- scikit-learn estimator contract -------------------------------------------------------------
# Our classifiers are binary only (tagged multi_class=False, so sklearn skips its multiclass checks).
# check_fit2d_1sample: with one sample there is one class, and we raise our own ValueError naming y,
# not sklearn's expected message.
_EXPECTED = {'check_fit2d_1sample': 'one sample is one class; we raise a ValueError naming y with our own wording'}

@parametrize_with_checks([LDA(), LDA('pinv'), MaxMarginLogistic(), LinearSVM()],
                         expected_failed_checks=lambda est: _EXPECTED)
def test_sklearn_contract(estimator, check):
    check(estimator)

# --- data ------------------------------------------------------------------------------------------
def test_data_statistics():
    X, y, g = make_shortcut_data(40000, d=10, sigma=0.6, rho=0.8, B=2.0, noise_var=0.25, seed=0)
    assert (y == 1).sum() == 20000 and X.shape == (40000, 10)
    assert abs(g.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 40000)                     # P(minority) = 1 - rho
    np.testing.assert_array_equal(X[:, 1], 2.0 * y * (1 - 2 * g))
    for c in (-1, 1):
        core = X[y == c, 0]
        assert abs(core.mean() - c) < 4 * 0.6 / np.sqrt(len(core)) and abs(core.var() - 0.36) < 0.02
    assert np.abs(X[:, 2:].mean(0)).max() < 0.02 and np.abs(X[:, 2:].var(0) - 0.25).max() < 0.015
    np.testing.assert_array_equal(make_shortcut_data(9, d=4, seed=5)[0], make_shortcut_data(9, d=4, seed=5)[0])
    assert (make_shortcut_data(7, d=4, seed=1)[1] == 1).sum() == 3                    # odd n: n//2 positives

@pytest.mark.parametrize('kw,name', [(dict(rho=1.2), 'rho'), (dict(rho=-0.1), 'rho'), (dict(sigma=-0.1), 'sigma'),
                                     (dict(noise_var=-1.0), 'noise_var'), (dict(d=2), 'd'), (dict(n=1), 'n'),
                                     (dict(group='nope'), 'group')])
def test_data_bad_inputs(kw, name):
    with pytest.raises(ValueError, match=name):
        make_shortcut_data(**{'n': 10, **kw})

# --- LDA --------------------------------------------------------------------------------------------
def test_lda_empirical_closed_form():
    X, y, _ = make_shortcut_data(5000, d=8, sigma=0.6, seed=1)
    mp, mm = X[y == 1].mean(0), X[y == -1].mean(0)
    S = 0.5 * (np.cov(X[y == 1].T, bias=True) + np.cov(X[y == -1].T, bias=True))
    lda = LDA('empirical').fit(X, y)
    np.testing.assert_allclose(lda.coef_, np.linalg.solve(S, mp - mm), rtol=1e-9)
    np.testing.assert_allclose(lda.intercept_, -0.5 * (mp + mm) @ lda.coef_, atol=1e-12)   # balanced: log prior ratio 0
    np.testing.assert_allclose(LDA('pinv').fit(X, y).coef_, lda.coef_, rtol=1e-8)

@pytest.mark.parametrize('n,d,group', [(32, 1024, None), (16, 300, 'majority'), (200, 50, None), (64, 64, None)])
def test_lda_shrinkage_matches_sklearn(n, d, group):
    X, y, _ = make_shortcut_data(n, d=d, group=group, seed=n + d)
    ours = LDA().fit(X, y); ref = LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto').fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-6, atol=1e-9)

def test_lda_empirical_refuses_singular():
    X, y, _ = make_shortcut_data(20, d=50, seed=0)
    with pytest.raises(ValueError, match='singular'):
        LDA('empirical').fit(X, y)

# --- max-margin logistic regression -----------------------------------------------------------------
@pytest.mark.parametrize('n,d', [(32, 1024), (20, 5), (1500, 30)])
def test_maxmargin_kkt(n, d):
    X, y, _ = make_shortcut_data(n, d=d, sigma=0.15, seed=n)
    mm = MaxMarginLogistic().fit(X, y)
    assert mm.separable_
    m, a = y * mm.decision_function(X), mm.dual_coef_
    assert (a >= 0).all() and m.min() > 1 - 1e-6
    np.testing.assert_allclose(m[a > 1e-10], 1, atol=1e-6)                              # support vectors on the margin
    np.testing.assert_allclose(np.r_[mm.coef_, mm.intercept_], (np.c_[X, np.ones(n)] * (a * y)[:, None]).sum(0), atol=1e-8)

def test_maxmargin_is_the_gradient_descent_direction():
    X, y, _ = make_shortcut_data(32, d=100, seed=2)
    mm = MaxMarginLogistic().fit(X, y)
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=100000).fit(np.c_[X, np.ones(32)], y)
    u, v = np.r_[mm.coef_, mm.intercept_], lr.coef_[0]
    assert u @ v / np.linalg.norm(u) / np.linalg.norm(v) > 0.99        # measured 0.9998 at d=200 in the notebook

def test_maxmargin_agrees_with_hard_margin_svc():
    X, y, _ = make_shortcut_data(64, d=50, seed=2); Xte, _, _ = make_shortcut_data(2000, d=50, seed=3)
    ours = MaxMarginLogistic().fit(X, y).predict(Xte)
    assert (ours == SVC(kernel='linear', C=1e8).fit(X, y).predict(Xte)).mean() > 0.99

def test_maxmargin_nonseparable_falls_back_to_logistic_minimiser():
    X, y, _ = make_shortcut_data(300, d=4, sigma=1.5, B=0.0, noise_var=1.0, seed=0)
    mm = MaxMarginLogistic().fit(X, y); lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)
    assert not mm.separable_
    np.testing.assert_allclose(mm.coef_, lr.coef_[0], atol=1e-4)

@pytest.mark.parametrize('est', [LDA(), MaxMarginLogistic(), LinearSVM()])
def test_one_class_y_raises(est):
    X, _, _ = make_shortcut_data(10, d=5, seed=0)
    with pytest.raises(ValueError, match='y must hold exactly 2 classes'):
        est.fit(X, np.zeros(10))

def test_bad_hyperparameters():
    X, y, _ = make_shortcut_data(10, d=5, seed=0)
    with pytest.raises(ValueError, match='covariance'): LDA('ridge').fit(X, y)
    with pytest.raises(ValueError, match='C='): LinearSVM(C=0.0).fit(X, y)
    with pytest.raises(ValueError, match='tol='): MaxMarginLogistic(tol=-1.0).fit(X, y)

# --- exact metrics vs Monte Carlo -------------------------------------------------------------------
@pytest.mark.parametrize('seed', [0, 1])
def test_group_accuracies_match_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    w, b, sigma, B, nv = np.r_[rng.normal(1, .3), rng.normal(.5, .3), .08 * rng.standard_normal(20)], rng.normal(0, .2), 0.6, 1.3, 0.4
    acc = group_accuracies(w, b, sigma, B, nv)
    for k, (yk, sk) in enumerate(GROUPS):
        X, y, _ = make_shortcut_data(40000, d=22, sigma=sigma, B=B, noise_var=nv, seed=100 + k,
                                     group='majority' if sk == yk else 'minority')
        keep = y == yk; mc = ((X[keep] @ w + b > 0) == (yk > 0)).mean()
        assert abs(mc - acc[k]) < 4 * np.sqrt(acc[k] * (1 - acc[k]) / keep.sum()) + 1e-9
    m = shortcut_metrics(w, b, sigma, B, nv, rho=0.9)
    X, y, _ = make_shortcut_data(100000, d=22, sigma=sigma, B=B, noise_var=nv, seed=7)
    mc_id = ((X @ w + b > 0) == (y > 0)).mean()
    assert abs(mc_id - m['id_acc']) < 4 * np.sqrt(m['id_acc'] * (1 - m['id_acc']) / 100000)
    assert m['worst_group_acc'] == acc.min() and np.isclose(m['gap'], acc[:2].mean() - acc[2:].mean())

# --- sweep vs a per-fit scikit-learn loop -----------------------------------------------------------
def test_sweep_matches_sklearn_loop():
    grid = dict(ns=(24,), d=120, sigmas=(0.15, 0.8), Bs=(0.3, 3.0), noise_vars=(0.02, 1.0), seeds=(0, 1))
    res = sweep(**grid)
    sk = {m: np.empty_like(res['lda']['id_acc']) for m in ('lda_id', 'lda_wg', 'lr_id', 'lr_wg')}
    for i, s in enumerate(grid['seeds']):
        for k, sg in enumerate(grid['sigmas']):
            for l, B in enumerate(grid['Bs']):
                for m, nv in enumerate(grid['noise_vars']):
                    X, y, _ = make_shortcut_data(24, d=120, sigma=sg, B=B, noise_var=nv, seed=s)
                    lda = LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto').fit(X, y)
                    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=2000).fit(X, y)
                    for key, e in (('lda', lda), ('lr', lr)):
                        met = shortcut_metrics(e.coef_[0], e.intercept_[0], sg, B, nv)
                        sk[key + '_id'][i, 0, k, l, m], sk[key + '_wg'][i, 0, k, l, m] = met['id_acc'], met['worst_group_acc']
    np.testing.assert_allclose(res['lda']['id_acc'], sk['lda_id'], atol=1e-6)          # LDA: the same estimator
    np.testing.assert_allclose(res['lda']['worst_group_acc'], sk['lda_wg'], atol=1e-6)
    assert np.abs(res['logistic']['id_acc'] - sk['lr_id']).max() < 0.03                # LR: lbfgs stops before the limit
    phase_sk = phase_labels((sk['lda_id'] - sk['lr_id']).mean(0), (sk['lda_wg'] - sk['lr_wg']).mean(0))
    assert (phase_sk == res['phase']).mean() >= 0.75

def test_sweep_bad_inputs():
    with pytest.raises(ValueError, match='sigmas'): sweep(sigmas=(0.0,), seeds=(0,))
    with pytest.raises(ValueError, match='ns'): sweep(ns=(1,), seeds=(0,))
    with pytest.raises(ValueError, match='rho'): sweep(rho=2.0, seeds=(0,))

# --- CLI and reproduce ------------------------------------------------------------------------------
def test_cli_bad_chapter_and_scale(tmp_path):
    for args, msg in [(['--chapter', 'nope'], "chapter='nope'"), (['--scale', 'huge'], 'invalid choice')]:
        r = subprocess.run([GENRICH, 'reproduce', *args, '--out', str(tmp_path)], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stdout + r.stderr
    from genrich.core import Scale
    with pytest.raises(ValueError, match='scale'): Scale('huge')

_MINI = dict(curves=dict(ns=(16, 32), d=20, B=1.0, noise_var=0.36, rho=0.9, seeds=2),
             phases=dict(n=16, d=20, sigmas=(0.15, 0.6), Bs=(0.3, 3.0), noise_vars=(0.1, 1.0), seeds=2),
             phases_n=dict(ns=(8, 16), sigma=0.6), svm=dict(ns=(16, 32), d=20, sigma=0.15, noise_vars=(0.04, 1.0), C=1.0, seeds=2),
             covariance=dict(ns=(8, 32), d=16, sigma=0.15, seeds=2))
_FIGS = ('fig4_6', 'figC_7', 'fig4_7', 'figC_8', 'figC_9', 'figC_10', 'lda_covariance')

def test_reproduce_small_config(tmp_path):
    from genrich.core import Scale, load_result
    from genrich.shortcut_experiments import reproduce
    sec = reproduce(Scale('quick'), tmp_path, _settings=_MINI)
    assert sec.startswith('## Shortcut') and sec.count('\n| ') == 5          # header row + 4 claims
    for f in _FIGS:
        assert (tmp_path/'figures'/f'shortcut_{f}.png').stat().st_size > 1000
        assert load_result(f'shortcut_{f}', out=tmp_path)['numbers']

@pytest.mark.slow
def test_cli_reproduce_quick_end_to_end(tmp_path):
    r = subprocess.run([GENRICH, 'reproduce', '--chapter', 'shortcut', '--scale', 'quick', '--out', str(tmp_path)],
                       capture_output=True, text=True, env={**__import__('os').environ, 'GENRICH_PROGRESS': '0'})
    assert r.returncode == 0, r.stdout + r.stderr
    rep = (tmp_path/'results'/'REPORT.md').read_text()
    assert '## Shortcut learning' in rep and '| claim (thesis) |' in rep
    for f in _FIGS: assert (tmp_path/'figures'/f'shortcut_{f}.png').exists()
    import json
    num = json.loads((tmp_path/'results'/'shortcut_fig4_6.json').read_text())['numbers']
    assert np.mean(num['lda']['minority_acc']) > np.mean(num['logistic']['minority_acc'])   # the headline of Fig. 4.6
