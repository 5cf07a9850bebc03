"""Prism: KV-cached generation vs recomputing every prefix without a cache, at T=256 (ratio in one run).

Usage: python bench/bench_prism_kvcache.py [--T 256] [--batch 8] [--d_model 128] [--layers 4]
"""
import argparse, time
import torch
from genrich.prism.model import Prism, PrismConfig
from genrich.prism.sample import sample


@torch.no_grad()
def generate_no_cache(model, prompt, n_new, seed=0):
    "Left-to-right sampling that recomputes the whole prefix at every step (no KV cache)."
    g = torch.Generator().manual_seed(seed)
    B, C = prompt.shape
    bos = torch.full((B, 1), model.config.bos_id)
    toks = torch.cat([bos, prompt], 1)
    for t in range(n_new):
        L = toks.shape[1]
        cur = torch.arange(-1, L - 1).expand(B, L)
        nxt = torch.arange(0, L).expand(B, L)
        p = model(toks, cur, nxt)[:, -1].softmax(-1)
        toks = torch.cat([toks, torch.multinomial(p, 1, generator=g)], 1)
    return toks[:, 1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--T', type=int, default=256); ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--d_model', type=int, default=128); ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    m = Prism(PrismConfig(vocab_size=64, max_len=a.T, d_model=a.d_model, n_layers=a.layers, n_heads=4)).eval()
    prompt = torch.randint(0, 64, (a.batch, 1)); n_new = a.T - 1
    t0 = time.perf_counter(); s = sample(m, prompt, n_new, order='left_to_right', seed=0); t_cache = time.perf_counter() - t0
    t0 = time.perf_counter(); x = generate_no_cache(m, prompt, n_new, seed=0); t_full = time.perf_counter() - t0
    same = torch.equal(s.tokens, x)
    print(f'T={a.T} batch={a.batch} d_model={a.d_model} layers={a.layers} threads={a.threads}')
    print(f'KV cache : {t_cache:8.2f} s  ({s.tokens_computed:.0f} slots per sequence)')
    print(f'no cache : {t_full:8.2f} s  ({sum(range(2, a.T + 1))} slots per sequence)')
    print(f'speed-up : {t_full / t_cache:8.2f}x   identical samples: {same}')


if __name__ == '__main__':
    main()
