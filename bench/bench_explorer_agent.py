"""Benchmark: one Internet Explorer iteration (Algorithm 1) broken down by stage.

Stages: sampling queries from the concept distribution, searching (caption k-NN + loading and
resizing the images), rewarding (features of target + candidates, faiss 15-NN, top-10 concept
scores), MoCo-v3 training on candidates + PCR x replay/target, the GP update over all concepts
(fit by marginal likelihood + mu/sigma for every concept + SMR softmax + tiering), evaluation
(k-NN and linear probe) and the atomic checkpoint. Shares of the iteration are printed side by
side from one run. One BLAS thread.

    python bench/bench_explorer_agent.py                 # Fashion-MNIST target, offline web, WordNet (needs the web cache)
    python bench/bench_explorer_agent.py --toy           # tiny shapes web built on the fly (seconds, no data needed)
    python bench/bench_explorer_agent.py --queries 64 --results 50 --iterations 3
"""
import argparse, os, tempfile, time
from pathlib import Path
import numpy as np
import torch
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('GENRICH_PROGRESS', '0')
from threadpoolctl import threadpool_limits
from genrich.explorer.agent import InternetExplorer, AgentConfig, toy_web, toy_shapes, TOY_COLOURS
from genrich.explorer.moco import MoCo

p = argparse.ArgumentParser()
p.add_argument('--toy', action='store_true'); p.add_argument('--iterations', type=int, default=2)
p.add_argument('--queries', type=int, default=16); p.add_argument('--results', type=int, default=20)
p.add_argument('--epochs', type=int, default=1); p.add_argument('--n-target', type=int, default=1000)
p.add_argument('--mode', default='ours'); p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
tmp = Path(tempfile.mkdtemp())
cfg = AgentConfig(queries=a.queries, results=a.results, min_results=min(10, a.results), epochs=a.epochs, batch_size=128, optimizer='adamw', lr=1e-3, mode=a.mode)
if a.toy:
    from genrich.explorer.search import hashed_bow_embed
    engine, vocab = toy_web(tmp/'web', per_caption=max(a.results, 12)); emb = hashed_bow_embed(vocab, 64)
    r = np.random.default_rng(0); target = toy_shapes(a.n_target, 'circle', TOY_COLOURS['red'], rng=r)
    ev = np.concatenate([toy_shapes(100, s, TOY_COLOURS['blue'], rng=r) for s in ('circle', 'square', 'bar')]); y = np.repeat(np.arange(3), 100)
    data = dict(target=target, eval_data=(ev, y, ev, y), labels=['circle', 'square', 'bar'])
    cfg = AgentConfig(**{**cfg.__dict__, 'bounds': (0, 3, None), 'masses': (0.8, 0.2), 'k': 5}); what = f'toy web ({len(engine)} images, {len(vocab)} concepts)'
else:
    from genrich.explorer.web import offline_web
    from genrich.explorer.experiments import wordnet_concepts, fashion_target, FASHION_CATEGORIES
    engine = offline_web(); vocab, emb, _ = wordnet_concepts(FASHION_CATEGORIES); data = fashion_target(a.n_target, 1000)
    what = f'Fashion-MNIST target ({a.n_target}), offline web ({len(engine):,} images), WordNet ({len(vocab):,} concepts)'
from genrich.explorer.concepts import embed_texts
lemb = hashed_bow_embed(data['labels'], 64) if a.toy else embed_texts(data['labels'])
torch.manual_seed(0); model = MoCo(in_channels=data['target'].shape[1], widths=(8, 16, 32), tau=0.2, momentum=0.99)
ag = InternetExplorer(engine, data['target'], vocab, emb, model=model, config=cfg, labels=data['labels'], label_emb=lemb,
                      eval_data=data['eval_data'], checkpoint=tmp/'agent.pt')
with threadpool_limits(a.threads):
    ag.initial = {'knn_acc': 0.0, 'probe_acc': 0.0}            # skip the one-off evaluation of the starting encoder
    rows = []
    for _ in range(a.iterations):
        t0 = time.perf_counter(); row = ag.step(); t1 = time.perf_counter(); ag.save(); t2 = time.perf_counter()
        row['timings']['checkpoint'] = t2 - t1; row['timings']['total'] = t2 - t0; rows.append(row)
stages = [k for k in rows[0]['timings'] if k != 'total']
print(f"{what}; mode {cfg.mode}; {cfg.queries} queries x {cfg.results} results, {cfg.epochs} MoCo epoch(s), PCR {cfg.pcr:g}; {a.threads} thread(s)")
print(f"{'iteration':>9} {'images':>7} " + ' '.join(f'{s:>10}' for s in stages) + f" {'total':>8}")
for r in rows:
    print(f"{r['iteration']:>9} {r['n_downloaded']:>7} " + ' '.join(f"{r['timings'][s]:>9.2f}s" for s in stages) + f" {r['timings']['total']:>7.2f}s")
tot = sum(r['timings']['total'] for r in rows)
print(f"{'share':>17} " + ' '.join(f"{sum(r['timings'][s] for r in rows)/tot:>10.1%}" for s in stages))
ssl = sum(r['timings']['ssl'] for r in rows)
print('ratio to SSL training: ' + ', '.join(f"{s} {sum(r['timings'][s] for r in rows)/ssl:.2f}x" for s in stages if s != 'ssl'))
