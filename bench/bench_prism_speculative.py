"""Prism: sequential forward passes of exact self-speculative decoding vs AR sequential decoding (ratio in one run).

Uses the trained addition model written by `genrich reproduce --chapter prism` (models/prism/addition_prism),
or any Prism folder given with --model. Both samplers draw from the model's exact joint under the same
order (right to left, the order the model solves addition in; --order to change); the
speculative sampler only needs fewer sequential passes.

Usage: python bench/bench_prism_speculative.py [--model DIR] [--n 500] [--order right_to_left]
"""
import argparse, json, time
from pathlib import Path
import torch
from genrich.core import repo_root
from genrich.prism.model import Prism
from genrich.prism.sample import sample
from genrich.prism.tasks import Addition, exact_match


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=str(repo_root()/'models'/'prism'/'addition_prism'))
    ap.add_argument('--n', type=int, default=500); ap.add_argument('--order', default='right_to_left')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = Prism.from_pretrained(a.model)
    task = Addition((m.config.max_len - 3) // 3)
    test = task.generate(a.n, seed=10_000)
    C, N = task.n_prompt, task.T - task.n_prompt
    pr = test['x'][:, :C]
    for temp in (1.0, 0.0): run(m, task, test, pr, C, N, a.order, temp)
    print('(passes/row = sequential forward passes one sequence needs on its own; batch passes = until the slowest row is done;'
          ' a round of speculative decoding is one draft pass + one verify pass)')


def run(m, task, test, pr, C, N, order, temperature):
    print(f'addition with {task.n_digits} digits, N={N} answer tokens, order={order}, temperature={temperature}, {len(pr)} problems')
    a = argparse.Namespace(order=order, temperature=temperature)
    t0 = time.perf_counter(); ar = sample(m, pr, N, order=a.order, method='sequential', temperature=a.temperature, seed=0); t_ar = time.perf_counter() - t0
    acc = exact_match(ar.tokens, test['x'], test['prompt']).mean() * 100
    print(f'{"sequential (AR-style)":28s} passes/row {ar.row_passes:5.2f}  batch passes {ar.passes:3d}  slots/seq {ar.tokens_computed:6.1f}  exact match {acc:5.1f}%  {t_ar:6.2f} s')
    for k in (2, 4, 8, N):
        t0 = time.perf_counter(); sp = sample(m, pr, N, order=a.order, method='speculative', k=k, temperature=a.temperature, seed=k); t = time.perf_counter() - t0
        acc = exact_match(sp.tokens, test['x'], test['prompt']).mean() * 100
        print(f'{f"self-speculative k={k}":28s} passes/row {sp.row_passes:5.2f}  batch passes {sp.passes:3d}  slots/seq {sp.tokens_computed:6.1f}  exact match {acc:5.1f}%  {t:6.2f} s'
              f'  tokens/round {sp.accepted_per_round:.2f}  passes/row ratio vs sequential {sp.row_passes / ar.row_passes:.2f}x')


if __name__ == '__main__':
    main()
