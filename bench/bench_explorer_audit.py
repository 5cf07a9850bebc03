"""Speed of the dHash leakage audit (thesis App. A.2): pairwise Hamming distances between 64-bit hashes.

Three ways to find the (download, test) pairs within a threshold, measured side by side in one run:
  bits-loop - unpacked 0/1 bits, one test hash at a time against all downloads (the obvious numpy loop);
  matmul    - unpacked bits as float32, distances = a(1-b)^T + (1-a)b^T by two matrix products, in blocks;
  popcount  - packed bytes, XOR and np.bitwise_count in blocks (what `near_duplicates` uses).
Pairs must agree; the target is popcount >= 5x the bits-loop.
Usage: python bench/bench_explorer_audit.py [n_downloads] [n_test]   (defaults 200000 2000; Table A.1 scale is ~1e6 x 1e4)
"""
import sys, time
import numpy as np
import torch
from genrich.explorer.audit import near_duplicates

torch.set_num_threads(1)

def bits_loop(a, b, thr):
    A, B = np.unpackbits(a, axis=1), np.unpackbits(b, axis=1)
    out = []
    for j in range(len(B)):
        d = (A != B[j]).sum(1); i = np.nonzero(d <= thr)[0]
        out += [(int(k), j, int(d[k])) for k in i]
    return sorted(out)

def matmul(a, b, thr, block=16384):
    A, B = np.unpackbits(a, axis=1).astype(np.float32), np.unpackbits(b, axis=1).astype(np.float32)
    out = []
    for s in range(0, len(A), block):
        x = A[s:s + block]; d = x @ (1 - B).T + (1 - x) @ B.T
        i, j = np.nonzero(d <= thr + 0.5)
        out += [(int(p) + s, int(q), int(round(d[p, q]))) for p, q in zip(i, j)]
    return sorted(out)

def popcount(a, b, thr): return sorted(map(tuple, near_duplicates(a, b, threshold=thr, block=4096).tolist()))

if __name__ == '__main__':
    n, m = (int(sys.argv[1]) if len(sys.argv) > 1 else 200_000), (int(sys.argv[2]) if len(sys.argv) > 2 else 2_000)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (n, 8), dtype=np.uint8), rng.integers(0, 256, (m, 8), dtype=np.uint8)
    a[rng.choice(n, 50, replace=False)] = b[rng.choice(m, 50, replace=False)]       # 50 planted copies
    times, results = {}, {}
    for name, f in (('bits-loop', bits_loop), ('matmul', matmul), ('popcount', popcount)):
        t = time.perf_counter(); results[name] = f(a, b, 4); times[name] = time.perf_counter() - t
    assert results['bits-loop'] == results['matmul'] == results['popcount'], 'the three methods disagree'
    print(f"{n:,} downloads x {m:,} test hashes, threshold 4 bits: {len(results['popcount'])} pairs (all methods agree)")
    for name, s in times.items(): print(f"  {name:10s} {s:8.2f} s   {times['bits-loop']/s:6.1f}x the bits-loop")
