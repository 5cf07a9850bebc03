"""Train the small Fashion-MNIST class-conditional DDPM committed in models/fashion_mnist_ddpm/.

Resumable: rerunning continues from models/fashion_mnist_ddpm/checkpoint.pt (which is not committed).
Without that checkpoint, --continue-steps N continues from the committed weights for N more steps
with a fresh AdamW state and a new data/noise seed (the optimizer state of the first run was not
kept), then merges the training record (steps, losses, wall time, and a `continued` entry).
Usage: nice -n 10 python scripts/train_fashion_mnist_ddpm.py [--steps 3000] [--max-minutes 15]
       nice -n 10 python scripts/train_fashion_mnist_ddpm.py --continue-steps 1000 --max-minutes 14 --seed 1
"""
import argparse, json, os, shutil, tempfile
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import torch
from genrich.core import atomic_write_text
from genrich.data import load_fashion_mnist, images_to_tensor
from genrich.ddpm import train_fashion_mnist_ddpm, train_class_conditional_ddpm, default_ddpm_dir, load_ddpm

def continue_from_weights(n_steps, max_minutes, seed, out=None):
    "Train the committed weights for `n_steps` more steps (fresh optimizer, `seed`), then merge the record into `out`."
    out = Path(out or default_ddpm_dir()); unet, sched, old = load_ddpm(out)
    x, y = load_fashion_mnist('train')
    with tempfile.TemporaryDirectory() as d:
        new = train_class_conditional_ddpm(images_to_tensor(x), y, d, model=unet, scheduler=sched, steps=n_steps, batch_size=64,
                                           lr=old['config']['lr'], label_dropout=old['config']['label_dropout'],
                                           max_minutes=max_minutes, seed=seed, device='cpu')
        s0 = old['step']
        rec = dict(old, step=s0 + new['step'], wall_time_s=old['wall_time_s'] + new['wall_time_s'],
                   losses=old['losses'] + [[s0 + s, l] for s, l in new['losses']], done=s0 + new['step'] >= old['config']['steps'],
                   continued=old.get('continued', []) + [dict(from_step=s0, steps=new['step'], seed=seed, wall_time_s=new['wall_time_s'],
                                                              optimizer='fresh AdamW (the earlier optimizer state was not kept)')],
                   versions=new['versions'])
        for sub in ('unet', 'scheduler'):
            shutil.rmtree(out/sub); shutil.copytree(Path(d)/sub, out/sub)
            for f in (out/sub).iterdir(): f.chmod(0o644)
    cfg = json.loads((out/'unet'/'config.json').read_text()); cfg.pop('_name_or_path', None)   # no machine-specific path
    atomic_write_text(out/'unet'/'config.json', json.dumps(cfg, indent=2, sort_keys=True) + '\n')
    atomic_write_text(out/'training_record.json', json.dumps(rec, indent=1) + '\n')
    return rec

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--max-minutes', type=float, default=None)
    ap.add_argument('--out', default=None)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--continue-steps', type=int, default=None)
    ap.add_argument('--seed', type=int, default=1, help='data/noise seed of a --continue-steps run')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.continue_steps: rec = continue_from_weights(a.continue_steps, a.max_minutes, a.seed, a.out)
    else: rec = train_fashion_mnist_ddpm(a.out, steps=a.steps, max_minutes=a.max_minutes, device='cpu')
    print(f"step {rec['step']} done={rec['done']} last loss {rec['losses'][-1] if rec['losses'] else None} wall {rec['wall_time_s']:.0f}s")
