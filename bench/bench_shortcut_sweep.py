"""Benchmark: the batched `genrich.shortcut.sweep` vs a plain per-fit scikit-learn loop on the same grid.

Both fit LDA (Ledoit-Wolf shrinkage) and unregularised logistic regression on every
(seed, sigma, B, noise_var) cell at n=32, d=1024 (the setting of thesis Fig. 4.7) and score them
with the same closed-form group accuracies; the script prints the wall time of each, their
ratio, and the share of cells whose phase label agrees. One BLAS thread for both.

    python bench/bench_shortcut_sweep.py [--seeds 3] [--grid 4]
"""
import argparse, time
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from genrich.shortcut import make_shortcut_data, shortcut_metrics, sweep, phase_labels

def sklearn_loop(n, d, sigmas, Bs, noise_vars, seeds):
    "Per-cell scikit-learn fits; returns ID and worst-group accuracy arrays `(seed, sigma, B, noise_var)` per method."
    shape = (len(seeds), len(sigmas), len(Bs), len(noise_vars))
    out = {k: np.empty(shape) for k in ('lda_id', 'lda_wg', 'lr_id', 'lr_wg')}
    for i, s in enumerate(seeds):
        for k, sg in enumerate(sigmas):
            for l, B in enumerate(Bs):
                for m, nv in enumerate(noise_vars):
                    X, y, _ = make_shortcut_data(n, d=d, sigma=sg, B=B, noise_var=nv, seed=s)
                    lda = LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto').fit(X, y)
                    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)   # unpenalised
                    for key, e in (('lda', lda), ('lr', lr)):
                        met = shortcut_metrics(e.coef_[0], e.intercept_[0], sg, B, nv)
                        out[key + '_id'][i, k, l, m], out[key + '_wg'][i, k, l, m] = met['id_acc'], met['worst_group_acc']
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3); ap.add_argument('--grid', type=int, default=4)
    a = ap.parse_args()
    grid = dict(sigmas=(0.15, 0.6, 1.0), Bs=tuple(np.geomspace(0.1, 10, a.grid)), noise_vars=tuple(np.geomspace(0.01, 10, a.grid)),
                seeds=tuple(range(a.seeds)))
    cells = a.seeds * 3 * a.grid ** 2
    with threadpool_limits(1):
        t0 = time.perf_counter(); ours = sweep(ns=(32,), d=1024, **grid); t_ours = time.perf_counter() - t0
        t0 = time.perf_counter(); sk = sklearn_loop(32, 1024, **grid); t_sk = time.perf_counter() - t0
    phase_sk = phase_labels((sk['lda_id'] - sk['lr_id']).mean(0), (sk['lda_wg'] - sk['lr_wg']).mean(0))
    agree = (phase_sk == ours['phase'][0]).mean()
    lda_err = max(np.abs(ours['lda']['id_acc'][:, 0] - sk['lda_id']).max(), np.abs(ours['lda']['worst_group_acc'][:, 0] - sk['lda_wg']).max())
    lr_err = max(np.abs(ours['logistic']['id_acc'][:, 0] - sk['lr_id']).max(), np.abs(ours['logistic']['worst_group_acc'][:, 0] - sk['lr_wg']).max())
    print(f'grid: {cells} cells (n=32, d=1024, {a.seeds} seeds x 3 sigma x {a.grid} B x {a.grid} noise_var)')
    print(f'sklearn loop : {t_sk:8.2f} s  ({t_sk / cells * 1e3:.1f} ms/cell)')
    print(f'genrich sweep: {t_ours:8.2f} s  ({t_ours / cells * 1e3:.2f} ms/cell)')
    print(f'speed-up     : {t_sk / t_ours:8.1f}x')
    print(f'phase labels agree on {agree:.1%} of {phase_sk.size} (sigma, B, noise_var) cells')
    print(f'max |accuracy difference|: LDA {lda_err:.2e} (same estimator), logistic {lr_err:.2e} (lbfgs stops before the max-margin limit)')

if __name__ == '__main__':
    main()
