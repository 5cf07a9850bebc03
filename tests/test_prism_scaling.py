"""Prism scaling laws (Fig 5.4): fits on user tables (DataFrame / CSV / rows) against known exponents, bad input, and a tiny resumable sweep."""
import json
import numpy as np, pandas as pd, pytest, torch
from genrich.core import Scale
from genrich.prism.scaling import read_runs, scaling_fits, isoflop_sweep, steps_for_budget, non_embedding_params, plot_prism_fig_5_4
from genrich.prism.model import Prism, PrismConfig


def chinchilla(mult=1., A=400., a=0.34, B=410., b=0.28, noise=1e-4, seed=0):
    "Runs on a Chinchilla-form loss; a method with `mult` needs `mult` x the compute for any loss."
    rng = np.random.default_rng(seed); rows = []
    for C in np.logspace(16, 20, 5):
        for N in np.logspace(4, 11, 71):
            D = C / (6 * N)
            rows.append(dict(N=N, D=D, loss=(A * N ** -a + B * (D / mult) ** -b) * np.exp(rng.normal(0, noise))))
    return rows


def test_fits_a_user_csv_with_D_columns_and_recovers_exponents_and_multiplier(tmp_path):
    df = pd.concat([pd.DataFrame(chinchilla()).assign(method='AR'), pd.DataFrame(chinchilla(8.)).assign(method='Prism b=16')])
    p = tmp_path/'runs.csv'; df.to_csv(p, index=False)          # columns N, D, loss, method (no C): C = 6ND
    f = scaling_fits(str(p), window=6)
    a, b = 0.34, 0.28
    for m in ('AR', 'Prism b=16'):
        assert f['methods'][m]['loss_fit']['beta'] == pytest.approx(-a * b / (a + b), abs=3e-3)
        assert f['methods'][m]['N_fit']['beta'] == pytest.approx(b / (a + b), abs=2e-2)
        assert f['methods'][m]['loss_fit']['r2'] > 0.99
    assert f['multiplier']['Prism b=16'] == pytest.approx(8, rel=0.05) and f['multiplier']['AR'] == 1
    # the same table as a DataFrame, as rows and as columns gives the same fits
    for form in (df, df.to_dict('records'), {k: df[k].tolist() for k in df}):
        g = scaling_fits(form, window=6)
        assert g['multiplier']['Prism b=16'] == pytest.approx(f['multiplier']['Prism b=16'], rel=1e-9)


def test_frontier_matches_brute_force_minimum_on_a_coarse_table():
    rows = chinchilla(noise=0)
    df = pd.DataFrame(rows); df['C'] = 6 * df['N'] * df['D']
    fr = scaling_fits(df.drop(columns='D'), reference=None, window=2)['methods']['all']['frontier']
    for C, L in zip(fr['C'], fr['loss']):
        best = df[np.isclose(np.log10(df['C']), np.log10(C), atol=0.005)]['loss'].min()
        assert L <= best + 1e-9 and L > best - 0.01 * best     # the parabola refines, never worsens, the grid minimum


def test_read_runs_bad_input(tmp_path):
    with pytest.raises(ValueError, match='C or D'): read_runs(pd.DataFrame(dict(N=[1., 2.], loss=[1., 2.])))
    with pytest.raises(ValueError, match='rows \\[0\\]'): read_runs(dict(N=[0., 2.], C=[1., 2.], loss=[1., 2.]))
    with pytest.raises(ValueError, match='loss'): read_runs([dict(N=1., C=2.)])
    with pytest.raises(TypeError, match='runs must be'): read_runs(5)
    with pytest.raises(FileNotFoundError): read_runs(str(tmp_path/'missing.csv'))
    assert 'loss' in read_runs([dict(N=1., C=2., val_loss=3.)])     # val_loss is accepted as the loss


def test_non_embedding_params_and_budget():
    m = Prism(PrismConfig(vocab_size=10, max_len=16, d_model=32, n_layers=1, n_heads=2, conf_head=True))
    N = non_embedding_params(m)
    assert N == sum(p.numel() for n, p in m.named_parameters() if n.startswith(('blocks', 'norm')))
    assert steps_for_budget(6 * N * 4 * 16 * 37, N, 4, 16) == 37
    with pytest.raises(ValueError): steps_for_budget(-1., N, 4, 16)


def test_tiny_sweep_is_resumable_and_plots(tmp_path):
    ov = dict(sizes=[dict(d_model=16, n_layers=1, n_heads=2), dict(d_model=32, n_layers=1, n_heads=2)], budgets=[2e8, 6e8],
              methods={'AR': dict(pos='rope', order='left_to_right', block=None), 'Prism b=4': dict(pos='double_rope', order='blockwise', block=4)},
              n_train=400, n_val=32, seq_len=16)
    rows = isoflop_sweep(Scale('quick'), tmp_path, overrides=ov)
    assert len(rows) == 8 and all(abs(6 * r['N'] * r['D'] / r['C'] - 1) < 0.4 for r in rows)
    again = isoflop_sweep(Scale('quick'), tmp_path, overrides=ov)
    assert [r['train_wall_s'] for r in again] == [r['train_wall_s'] for r in rows]    # read back, not retrained
    f = scaling_fits(rows)
    assert set(f['methods']) == {'AR', 'Prism b=4'} and f['multiplier']['AR'] in (1.0, None)
    json.dumps(f)                                                                  # a JSON-able record
    fig = plot_prism_fig_5_4(dict(numbers=dict(runs=rows, fits=f)))
    assert len(fig.axes) == 3
