"""Benchmark: one Internet Explorer GPR update + prediction over all 146,347 concepts (§2.1.5), ConceptGPR vs scikit-learn.

The concept embeddings here are random 384-d unit vectors (timing does not depend on what they
mean; real MiniLM embeddings would need minutes to compute) and the 2,560 observations (10
iterations x 256 queries, Table A.3) get a smooth reward of their embedding plus noise. Both
models use the same fixed kernel for the prediction comparison, so their mu and sigma must agree;
scikit-learn predicts in the same chunks (it would otherwise hold two 146,347 x 2,560 float64
matrices, 6 GB). The marginal-likelihood fit is timed separately. One BLAS thread for both
(threadpoolctl + torch.set_num_threads); wall and CPU (process) seconds are both printed, the
latter being the fairer ratio on a machine shared with other jobs.

Two timings for ConceptGPR: cold (`fit` on all 2,560 observations + `predict`) and the agent's
iteration (`update` with the iteration's 256 new observations (Table A.3) on a model that had
2,304 and had already predicted all concepts in the previous iteration (untimed), then `predict`
again), both against scikit-learn's fit + predict on the same 2,560 observations.

    python bench/bench_explorer_gpr.py [--n-concepts 146347] [--n-obs 2560] [--n-new 256] [--skip-fit]
"""
import argparse, time
import numpy as np
from threadpoolctl import threadpool_limits
import torch
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel as C, RBF, WhiteKernel
from genrich.explorer.reward_model import ConceptGPR

p = argparse.ArgumentParser()
p.add_argument('--n-concepts', type=int, default=146_347); p.add_argument('--n-obs', type=int, default=2560)
p.add_argument('--n-new', type=int, default=256); p.add_argument('--dim', type=int, default=384); p.add_argument('--chunk', type=int, default=4096)
p.add_argument('--skip-fit', action='store_true'); p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
rng = np.random.default_rng(0)
E = rng.normal(size=(a.n_concepts, a.dim)).astype(np.float32); E /= np.linalg.norm(E, axis=1, keepdims=True)
obs = rng.choice(a.n_concepts, a.n_obs, replace=False)
w = rng.normal(size=a.dim); w /= np.linalg.norm(w)
y = np.tanh(8*E[obs] @ w) + 0.1*rng.normal(size=a.n_obs)
Xo, Eall = E[obs].astype(np.float64), E.astype(np.float64)
kern = dict(amplitude=1.0, length_scale=0.6, noise=0.05)
print(f'{a.n_concepts:,} concepts (random {a.dim}-d unit vectors), {a.n_obs:,} observations, chunk {a.chunk}, {a.threads} thread(s)')

with threadpool_limits(a.threads):
    rows = []
    for prec in ('mixed', 'float64'):
        t, c = time.perf_counter(), time.process_time()
        mu, sd = ConceptGPR(**kern, optimize=False, precision=prec, chunk_size=a.chunk).fit(Xo, y).predict(Eall, return_std=True)
        rows.append((f'{prec}, cold', time.perf_counter() - t, time.process_time() - c, mu, sd))
        k = a.n_obs - a.n_new
        g = ConceptGPR(**kern, optimize=False, precision=prec, chunk_size=a.chunk).fit(Xo[:k], y[:k]); g.predict(Eall, return_std=True)
        t, c = time.perf_counter(), time.process_time()
        mu, sd = g.update(Xo[k:], y[k:]).predict(Eall, return_std=True)
        rows.append((f'{prec}, update', time.perf_counter() - t, time.process_time() - c, mu, sd))
    t, c = time.perf_counter(), time.process_time()
    sk = GaussianProcessRegressor(C(kern['amplitude'], 'fixed')*RBF(kern['length_scale'], 'fixed'), alpha=kern['noise'],
                                  normalize_y=True, optimizer=None).fit(Xo, y)
    out = [sk.predict(Eall[s:s + a.chunk], return_std=True) for s in range(0, a.n_concepts, a.chunk)]
    t_sk, c_sk = time.perf_counter() - t, time.process_time() - c
    mu_sk, sd_sk = np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])
    print(f'\nfixed-kernel update + prediction of all concepts (mu and sigma); update = {a.n_new} new observations added to {a.n_obs - a.n_new:,}:')
    print(f'  scikit-learn GaussianProcessRegressor : {t_sk:8.1f} s wall {c_sk:8.1f} s cpu')
    for prec, t, c, mu, sd in rows:
        print(f'  ConceptGPR {prec:16s}         : {t:8.1f} s wall {c:8.1f} s cpu   speed-up {t_sk/t:5.1f}x wall {c_sk/c:5.1f}x cpu   '
              f'max|dmu| {np.abs(mu - mu_sk).max():.1e}  max|dsigma| {np.abs(sd - sd_sk).max():.1e}  '
              f'equal to 1e-4: {bool(np.allclose(mu, mu_sk, atol=1e-4, rtol=0) and np.allclose(sd, sd_sk, atol=1e-4, rtol=0))}')
    if not a.skip_fit:
        yn = (y - y.mean())/y.std()
        t = time.perf_counter(); g = ConceptGPR(amplitude=1.0, length_scale=1.0, noise=0.1).fit(Xo, y); t_ours = time.perf_counter() - t
        t = time.perf_counter()
        skf = GaussianProcessRegressor(C(1.0, (1e-3, 1e3))*RBF(1.0, (1e-2, 1e2)) + WhiteKernel(0.1, (1e-5, 1e1)), random_state=0).fit(Xo, yn)
        t_skf = time.perf_counter() - t
        print(f'\nmarginal-likelihood fit of (a, l, noise) on {a.n_obs:,} observations:')
        print(f'  scikit-learn: {t_skf:6.1f} s  log ML {skf.log_marginal_likelihood_value_:.3f}  kernel {skf.kernel_}')
        print(f'  ConceptGPR  : {t_ours:6.1f} s  log ML {g.log_marginal_likelihood_value_:.3f}  a={g.amplitude_:.4g} l={g.length_scale_:.4g} noise={g.noise_:.4g}'
              f'   speed-up {t_skf/t_ours:.1f}x')
        print(f'  with these hyperparameters ConceptGPR(precision=mixed) chose kernel {g.kernel_dtype_}, variance {g.variance_dtype_} '
              f'(float64 parts run at the precision=float64 speed above)')
