"""Throughput of the autoregressive generative classifier's scoring (thesis §4.3.3, Eq. 4.2).

Three ways to get the (n, C) matrix log p(x | y=c), measured side by side in one run:
  loop      - Algorithm 4 literally: one forward pass per text and per class (no padding);
  per-class - C passes over each minibatch of texts (in input order), one per class token;
  batched   - the C passes folded into one forward pass of C*B rows, texts sorted by length (what `predict` uses).
Scores must agree; the target is batched >= 2x the loop.  Usage: python bench/bench_autoregressive_classifier.py [n_texts]
"""
import sys, time
import numpy as np
import torch
from genrich.core import ShiftSplit
from genrich.autoregressive_classifier import AutoregressiveClassifier, token_logprobs
from genrich.discriminative import pad_batch

torch.set_num_threads(1)

def texts(n, seed):
    r = np.random.default_rng(seed); words = 'the a movie plot was good bad very not quite film actor scene story fun dull'.split()
    x = [' '.join(r.choice(words, r.integers(5, 40))) for _ in range(n)]
    return ShiftSplit(x, r.integers(0, 2, n), np.zeros(n, int))

@torch.no_grad()
def per_class(clf, x):
    "C forward passes per minibatch, one per class token."
    toks, C = clf._tokens(x), len(clf.classes_)
    out = np.zeros((len(toks), C))
    for s in range(0, len(toks), clf.eval_batch_size):
        chunk = toks[s:s + clf.eval_batch_size]
        for c in range(C):
            ids, m = pad_batch([clf._sequence(t, c) for t in chunk])
            out[s:s + len(chunk), c] = token_logprobs(clf.model_, ids, m).sum(1).double().numpy()
    return out

def best_of(f, k=3):
    ts = []
    for _ in range(k): t0 = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t0)
    return min(ts), r

if __name__ == '__main__':
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    for C in (2, 4):
        tr = texts(400, 0); tr.y = np.arange(len(tr.y)) % C    # labels 0..C-1
        clf = AutoregressiveClassifier(hidden_size=64, num_layers=2, epochs=1, min_freq=1, eval_batch_size=64, random_state=0).fit(tr)
        x = texts(n, 1).x
        t_loop, s_loop = best_of(lambda: clf.log_likelihoods(x, batched=False), k=1)
        t_pc, s_pc = best_of(lambda: per_class(clf, x))
        t_b, s_b = best_of(lambda: clf.log_likelihoods(x))
        print(f"C={C}, n={n} texts of 5-40 words, 1 CPU thread:")
        print(f"  loop      {n / t_loop:8.1f} texts/s")
        print(f"  per-class {n / t_pc:8.1f} texts/s   max |diff| vs loop {np.abs(s_pc - s_loop).max():.2e}")
        print(f"  batched   {n / t_b:8.1f} texts/s   max |diff| vs loop {np.abs(s_b - s_loop).max():.2e}   "
              f"same argmax: {(s_b.argmax(1) == s_loop.argmax(1)).all()}")
        print(f"  speed-up batched / loop = {t_loop / t_b:.1f}x, batched / per-class = {t_pc / t_b:.2f}x")
