"""The text-shift experiment (Tables 4.1/4.2 analog) end to end on a tiny slice of the VADER benchmark."""
import json
import numpy as np
import pytest
import torch
from genrich.core import Scale, save_result, load_result
from genrich import text_shift_experiments as T

torch.set_num_threads(1)
try:
    from genrich.sentiment_shift import load_vader
    DF = load_vader()
except FileNotFoundError: DF = None
needs_data = pytest.mark.skipif(DF is None, reason='VADER sentences not installed; run `make data`')

def tiny_cfg():
    q = T.text_shift_config(Scale('quick'))
    return {**q, 'data': dict(rho=0.9, n_train=240, n_val=120, n_test_per_group=20, seed=0),
            'ar': {**q['ar'], 'epochs': 1, 'hidden_size': 16, 'min_freq': 2}, 'disc': {**q['disc'], 'epochs': 1, 'width': 16, 'min_freq': 2}}

@needs_data
def test_tiny_run_claims_figure_and_resume(tmp_path):
    st = T.run_text_shift(Scale('quick'), tmp_path, cfg=tiny_cfg(), df=DF)
    runs = st['runs']['0']
    assert set(runs) == set(T.text_shift_methods(tiny_cfg())) | set(T.sweep_methods(tiny_cfg()))
    assert [h['epoch'] for h in runs[T.GEN_NAME]['history'] if 'ckpt_worst_group_accuracy' in h] == [1]   # Fig 4.2 checkpoints
    for name, v in runs.items():
        assert 0 <= v['worst_group_accuracy'] <= v['test_accuracy'] <= 1
        assert v['worst_group_accuracy'] == min(v['group_accuracies'].values())
        lo, hi = v['worst_group_ci95']; assert lo <= v['worst_group_accuracy'] <= hi
    # the three AR objectives share one architecture, so their parameter counts are equal
    assert len({runs[m]['n_params'] for m in (T.GEN, T.PYX, T.PX_PYX)}) == 1
    save_result('generative_classifiers', {'runs': st['runs'], 'split_sizes': st['split_sizes']}, config=st['config'], out=tmp_path)
    rec = load_result('generative_classifiers', out=tmp_path)
    claims = T.text_shift_claims(rec)
    assert len(claims) in (6, 7) and all(c[2].split()[0] in ('yes', 'no') for c in claims)
    er = T.text_effective_robustness(rec)
    if er is not None:                                             # residual = measured minus the fitted line, by hand
        from scipy.special import expit, logit
        pred = expit(er['slope'] * logit(er['ckpt_id'][0]) + er['intercept'])
        assert er['residuals'][0] == pytest.approx(er['ckpt_wg'][0] - pred, abs=1e-6)
    for m in T.GRAD_NORM_METHODS:                                  # Fig 4.3: one row of group gradient norms per epoch
        assert np.array(runs[m]['grad_norms']).shape == (1, 4) and min(runs[m]['grad_norms'][0]) > 0
    assert set(T.grad_norm_curves(rec)) == set(T.GRAD_NORM_METHODS) and T.grad_norm_curves(rec)['ERM'][0] == [1.0]
    r = T._mean_runs(rec)
    assert (claims[0][2].startswith('yes')) == (r[T.GEN]['wg'] > max(r[m]['wg'] for m in T.DISC))
    T.plot_generative_classifiers(rec)
    again = T.run_text_shift(Scale('quick'), tmp_path, cfg=tiny_cfg(), df=DF)          # resumes from the partial record
    assert again['runs']['0']['ERM']['fit_s'] == runs['ERM']['fit_s']

@needs_data
def test_splits_are_disjoint_and_shifted():
    sp = T.text_shift_splits(dict(rho=0.9, n_train=400, n_val=200, n_test_per_group=40, seed=3), DF)
    assert not set(sp['val'].x) & set(sp['id_test'].x) and not set(sp['train'].x) & set(sp['test'].x)
    assert np.bincount(sp['test'].g).tolist() == [40] * 4
    assert np.mean(sp['train'].a == sp['train'].y) == pytest.approx(0.9, abs=0.01)
