"""A miniature end-to-end run of the image experiments of the generative_classifiers chapter (genrich.image_shift_experiments)."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import json
import numpy as np
import pytest
import torch
from genrich.core import Scale, save_result, load_result
from genrich.image_shift_experiments import (image_shift_config, run_image_shift, mean_runs, diffusion_checkpoints, size_points,
                                             image_shift_claims, plot_generative_classifiers_image, DISC, GEN, GEN_PCA)

torch.set_num_threads(1)

@pytest.fixture(scope='module')
def raw():
    from genrich.data import load_fashion_mnist
    try: return {s: load_fashion_mnist(s) for s in ('train', 'test')}
    except FileNotFoundError as e: pytest.skip(str(e))

@pytest.fixture(scope='module')
def record(raw, tmp_path_factory):
    d = tmp_path_factory.mktemp('run')
    cfg = image_shift_config(Scale('quick'))
    cfg.update(data=dict(rho=0.95, n_train=200, n_val=40, n_test_per_group=10, size=16, seed=0), seeds=[0], gen_seeds=[0], sizes=[16, 64],
               disc={**cfg['disc'], 'epochs': 1}, gen={**cfg['gen'], 'steps': 20, 'eval_every': 10, 'n_trials': 2, 'val_trials': 2, 'block_out_channels': (8, 16)},
               pca={**cfg['pca'], 'block_out_channels': (8,)})
    st = run_image_shift(Scale('quick'), d, cfg=cfg, data=raw, gen_dirs={'pixel': d/'px', 'pca': d/'pca'})
    save_result('generative_classifiers_image', {'runs': st['runs'], 'split_sizes': st['split_sizes'], 'background': st['background']}, config=cfg, out=d)
    again = run_image_shift(Scale('quick'), d, cfg=cfg, data=raw, gen_dirs={'pixel': d/'px', 'pca': d/'pca'})   # resumes from the partial record
    assert json.dumps(again['runs'], sort_keys=True, default=float) == json.dumps(st['runs'], sort_keys=True, default=float)
    return load_result('generative_classifiers_image', out=d)

def test_every_method_runs(record):
    r = mean_runs(record)
    assert list(r) == [*DISC, GEN, GEN_PCA]
    for v in r.values(): assert 0 <= v['wg'] <= v['id'] + 1 and v['ci'][0] <= v['wg'] <= v['ci'][1]
    assert record['numbers']['split_sizes'] == {'train': 200, 'val': 40, 'test': 40}

def test_checkpoint_history(record):
    ck = diffusion_checkpoints(record)
    assert ck[GEN]['step'] == [10, 20] and len(ck[GEN]['val_loss']) == 2 and ck[GEN]['best_step'] in (10, 20)

def test_sizes_reuse_the_baseline(record):
    pts = size_points(record)
    assert sorted(p['width'] for p in pts) == [16, 64]
    erm = record['numbers']['runs']['0']['ERM']
    assert [p for p in pts if p['width'] == 64][0]['wg'] == erm['worst_group_accuracy']     # the width-64 run is the ERM baseline itself

def test_claims_and_figure(record):
    rows = image_shift_claims(record)
    assert len(rows) >= 4 and all(v.split()[0] in ('yes', 'no') for _, _, v in rows)
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig = plot_generative_classifiers_image(record); assert len(fig.axes) >= 4; plt.close(fig)

def test_chapter_entry():
    from genrich.cli import CHAPTERS
    assert CHAPTERS['generative_classifiers'][0] == 'genrich.image_shift_experiments:reproduce_chapter'

def test_hard_benchmark_config():
    from genrich.image_shift import SHIRTS
    from genrich.image_shift_experiments import ddpm_folder, record_name, generative_classifier
    easy, hard = image_shift_config(Scale('quick')), image_shift_config(Scale('quick'), 'shirts')
    assert [tuple(c) for c in hard['data']['classes']] == list(SHIRTS) and 'classes' not in easy['data']
    assert {k: v for k, v in hard['data'].items() if k != 'classes'} == easy['data']
    assert hard['latents'] == ['pixel'] and hard['sizes'] == [] and hard['ckpt_test']
    assert generative_classifier(hard).out_dir == ddpm_folder('pixel', 0, benchmark='shirts') != ddpm_folder('pixel', 0)
    assert record_name('shirts') == 'generative_classifiers_image_shirts' and record_name() == 'generative_classifiers_image'
    for bad in (lambda: image_shift_config(Scale('quick'), 'cats'), lambda: ddpm_folder('pixel', 0, benchmark='cats'), lambda: record_name('cats')):
        with pytest.raises(ValueError, match='cats'): bad()
