"""Prism losses: Eq 5.10, the optimal-strategy DP against brute force, and scaling-law fits with known exponents."""
import numpy as np, pandas as pd, pytest, torch
from genrich.prism.loss import (discretized_loss, optimal_strategy, brute_force_strategy, strategy_from_steps,
                                fit_power_law, isoflop_frontier, compute_multiplier, per_step_loss, nll_bound)
from genrich.prism.model import Prism, PrismConfig
import torch as _torch; _torch.set_num_threads(1)   # tiny models; the CI CPU is shared


@pytest.mark.parametrize('seed', range(6))
def test_dp_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    T = 9
    L = rng.exponential(size=T)
    for F in range(1, T + 1):
        for K in (None, 3, T):
            if K is not None and F * K < T: continue
            S, v = optimal_strategy(L, F, K)
            Sb, vb = brute_force_strategy(L, F, K)
            assert abs(v - vb) < 1e-9 and abs(discretized_loss(L, S) - v) < 1e-9 and (S > 0).sum() == F
            if K: assert S.max() <= K


def test_discretized_loss_examples_and_errors():
    L = np.arange(6, 0, -1.)
    assert discretized_loss(L, np.ones(6)) == L.sum()
    assert discretized_loss(L, strategy_from_steps([3, 3])) == 3 * 6 + 3 * 3
    with pytest.raises(ValueError): discretized_loss(L, [3, 0, 1, 2, 0, 0])
    with pytest.raises(ValueError): optimal_strategy(L, 0)


def test_power_law_recovers_known_exponents_from_a_noisy_dataframe():
    rng = np.random.default_rng(0)
    A, a, B, b = 300., 0.3, 500., 0.35
    rows = []
    for C in np.logspace(15, 19, 7):
        for N in np.logspace(3, 11, 161):        # wide enough that every optimum is inside the grid
            D = C / (6 * N)
            rows.append(dict(N=N, D=D, loss=(A * N ** -a + B * D ** -b) * np.exp(rng.normal(0, 1e-3))))
    fr = isoflop_frontier(pd.DataFrame(rows), window=8)
    assert len(fr['C']) == 7
    assert abs(fit_power_law(fr['C'], fr['loss'])['beta'] + a * b / (a + b)) < 2e-3
    assert abs(fit_power_law(fr['C'], fr['N'])['beta'] - b / (a + b)) < 1e-2
    f = fit_power_law(np.logspace(1, 5, 9), 3 * np.logspace(1, 5, 9) ** -0.2)
    assert abs(f['alpha'] - 3) < 1e-9 and abs(f['beta'] + 0.2) < 1e-12 and f['r2'] > 0.999999
    g = dict(alpha=f['alpha'] * 4 ** 0.2, beta=-0.2)      # g(C) = f(C/4): 4x the compute for any loss
    assert np.allclose(compute_multiplier(f, g, [0.5, 1.0]), 4)


def test_per_step_loss_sums_to_the_bound():
    torch.manual_seed(0)
    m = Prism(PrismConfig(vocab_size=4, max_len=5, d_model=16, n_layers=1, n_heads=2)).eval()
    x = torch.randint(0, 4, (20, 5))
    Lt = per_step_loss(m, x, 'random', n_orders=3, n_prompt=1)
    assert Lt.shape == (5,) and nll_bound(Lt, 1) == pytest.approx(Lt[1:].sum())
