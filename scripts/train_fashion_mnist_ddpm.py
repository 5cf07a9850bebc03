"""Train the small Fashion-MNIST class-conditional DDPM committed in models/fashion_mnist_ddpm/.

Resumable: rerunning continues from models/fashion_mnist_ddpm/checkpoint.pt (which is not committed).
Usage: nice -n 10 python scripts/train_fashion_mnist_ddpm.py [--steps 3000] [--max-minutes 15]
"""
import argparse, os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from genrich.ddpm import train_fashion_mnist_ddpm

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--max-minutes', type=float, default=None)
    ap.add_argument('--out', default=None)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rec = train_fashion_mnist_ddpm(a.out, steps=a.steps, max_minutes=a.max_minutes, device='cpu')
    print(f"step {rec['step']} done={rec['done']} last loss {rec['losses'][-1] if rec['losses'] else None} wall {rec['wall_time_s']:.0f}s")
