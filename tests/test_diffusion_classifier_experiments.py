"""Chapter-3 experiments: data subset, studies on our committed model at toy size, report table."""
import numpy as np, pytest, torch
from genrich.diffusion_classifier_experiments import (fashion_test_subset, load_model, study_adaptive, study_noise_pairing, accuracy,
                                                      _report, _configs)
from genrich.core import Scale

torch.set_num_threads(1)

def test_subset_is_stratified_and_seeded():
    x, y, idx = fashion_test_subset(3, seed=1)
    assert x.shape == (30, 1, 28, 28) and np.bincount(y).tolist() == [3]*10
    assert (fashion_test_subset(3, seed=1)[2] == idx).all() and not (fashion_test_subset(3, seed=2)[2] == idx).all()
    assert float(x.min()) >= -1 and float(x.max()) <= 1

def test_committed_model_beats_chance_and_adaptive_counts():
    model = load_model(); x, y, _ = fashion_test_subset(2)
    r = study_adaptive(model, x, y, schedules=(((3, 1), (2, 4)),))
    ex, ad = r['rows']
    assert ex['evals_per_image'] == 40 and ad['evals_per_image'] == 10*2 + 3*2
    assert ex['acc'] > 0.3                                              # 10 classes: chance is 0.1

def test_paired_noise_has_lower_difference_variance():
    model = load_model(); x, y, _ = fashion_test_subset(1)
    r = study_noise_pairing(model, x, y, t_step=100, n_trials=1)
    assert r['var_diff_paired'] < r['var_diff_unpaired']

def test_report_has_a_row_per_claim_with_verdicts():
    c = _configs(Scale('quick'))
    rec = lambda n: {'numbers': n}
    recs = dict(
        noise_pairing=rec(dict(var_diff_paired=1e-4, var_diff_unpaired=1e-2, acc_paired=.8, acc_unpaired=.6, n_trials=16, t=[0])),
        single_timestep=rec(dict(t=[0, 500, 999], acc=[.2, .7, .1])),
        strategies=rec(dict(ns=[1, 16], acc={'even': [.5, .8], 'uniform': [.5, .75], '0': [.2, .3], '0,500,999': [.4, .6], '475,500,525': [.5, .6]},
                            variants={'l2': .8, 'l1': .7, 'huber': .79, 'l2_crop2': .7, 'l2_crop4': .6, 'l2_crop6': .5}, n_trials=16)),
        adaptive=rec(dict(rows=[dict(keep=None, trials=[16], acc=.8, evals_per_image=160), dict(keep=[3, 1], trials=[4, 16], acc=.79, evals_per_image=76)])),
        b7=rec(dict(cfg={'0.0': .8, '0.5': .7, '2.0': .5}, eps={'normal': .8, 'zero': .3}, n_trials=8)),
        baselines=rec(dict(logreg_acc=.8, cnn_acc=.85, logreg_acc_full_test=.84, cnn_acc_full_test=.88,
                           pruning=[dict(k=None, acc=.8, evals_per_image=160, s_per_image=1.), dict(k=2, acc=.82, evals_per_image=32, s_per_image=.2, topk_contains_label=.95)])))
    md = _report(recs, c, {'step': 100, 'wall_time_s': 600})
    rows = [l for l in md.splitlines() if l.startswith('| ') and not l.startswith('| claim')]
    assert md.startswith('## Diffusion Classifier') and len(rows) == 12
    assert all(l.rstrip().endswith(('| yes |', '| no |')) for l in rows)
    assert '| no |' not in md                                            # every synthetic claim above holds
    recs['b7']['numbers']['cfg']['0.5'] = .9
    assert _report(recs, c, {}).count('| no |') == 1
