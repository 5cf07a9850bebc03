"""Train the small diffusion generative classifiers committed in models/fashion_shift_ddpm/ (thesis ch. 4, Table 4.1 analog).

One class-conditional UNet per (latent, seed), trained from scratch with genrich.ddpm.train_class_conditional_ddpm on the
Fashion-MNIST coloured-background shift (genrich.image_shift), with a snapshot every `eval_every` steps scored on the
class-balanced validation split. Resumable: rerunning continues from each folder's checkpoint.pt (not committed), and
finished snapshots are only loaded.
Usage: nice -n 10 python scripts/train_fashion_shift_ddpm.py [--latent pixel pca] [--seeds 0] [--background colour] [--benchmark tops_footwear]
The hard benchmark (T-shirt/top vs Shirt): nice -n 10 python scripts/train_fashion_shift_ddpm.py --benchmark shirts --latent pixel
"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from genrich.core import Scale

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--benchmark', default='tops_footwear', help="'tops_footwear' (default) or 'shirts' (T-shirt/top vs Shirt)")
    ap.add_argument('--latent', nargs='+', default=None, help="default: the benchmark's latents (pixel and pca; pixel only for shirts)")
    ap.add_argument('--seeds', nargs='+', type=int, default=[0])
    ap.add_argument('--background', default='colour')
    ap.add_argument('--scale', default='quick')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from genrich.image_shift_experiments import image_shift_config, image_splits, generative_classifier
    cfg = image_shift_config(Scale(a.scale), a.benchmark)
    for bg in [a.background]:
        splits = image_splits(cfg['data'], background=bg)
        for latent in a.latent or cfg.get('latents', ['pixel', 'pca']):
            for seed in a.seeds:
                t0 = time.time()
                clf = generative_classifier(cfg, latent, seed, background=bg).fit(splits['train'], splits['val'])
                print(f"{bg} {latent} seed {seed}: best step {clf.best_step_}, "
                      f"history {[(h['step'], round(h['val_class_balanced_accuracy'], 3), round(h['val_diffusion_loss'], 4)) for h in clf.history_]} "
                      f"({time.time() - t0:.0f}s)", flush=True)
