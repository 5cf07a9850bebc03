"""Test accuracy of the committed Fashion-MNIST DDPM as a Diffusion Classifier (resumable, shardable).

Writes per-sample records under --work (default /tmp/genrich_fmnist_eval) and the summary to
models/fashion_mnist_ddpm/evaluation.json. Usage:
  python scripts/evaluate_fashion_mnist_ddpm.py [--per-class 30] [--n-workers 1 --worker-idx 0]
"""
import argparse, json, os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from genrich.core import atomic_write_text
from genrich.ddpm import default_ddpm_dir, load_ddpm
from genrich.diffusion_classifier import evaluate_dataset
from genrich.diffusion_classifier_experiments import fashion_test_subset, load_model

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--per-class', type=int, default=30); ap.add_argument('--work', default='/tmp/genrich_fmnist_eval')
    ap.add_argument('--n-workers', type=int, default=1); ap.add_argument('--worker-idx', type=int, default=0)
    a = ap.parse_args(); torch.set_num_threads(1)
    model = load_model(); x, y, idx = fashion_test_subset(a.per_class, seed=1)
    keep, trials = (3, 1), (4, 16)
    clf = model.classifier(keep=keep, trials=trials, timesteps='even', seed=0)
    s = evaluate_dataset(clf, x, y, model.conds(), a.work, n_workers=a.n_workers, worker_idx=a.worker_idx)
    s.update(model_step=load_ddpm()[2]['step'], subset=f'{a.per_class} test images per class (seed 1)', keep=keep, trials=trials, timesteps='even')
    print(s)
    if s['n_done'] == s['n_total']: atomic_write_text(default_ddpm_dir()/'evaluation.json', json.dumps(s, indent=1) + '\n')
