"""Diffusion Classifier throughput: a reference loop that mirrors the official algorithm against genrich's batched estimator.

Reference (as in the public implementation of Alg. 3): one image at a time, one stage at a time, one
conditioning at a time, batches of 32 (t, eps) trials, the conditioning recomputed for every batch
(for Stable Diffusion: the prompt is re-encoded by the text encoder every batch). Ours: every
(image, trial, conditioning) triple of a stage flattened into large batches, prompts encoded once.
Both use the same model and the same paired noise set S, so predictions must be identical.

Run: python bench/bench_diffusion_classifier.py [--images 16] [--threads 1]
"""
import argparse, os, tempfile, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('GENRICH_PROGRESS', '0')
from pathlib import Path
import numpy as np, torch
from genrich.diffusion_classifier import DiffusionClassifier, eps_error
from genrich.data import load_fashion_mnist, images_to_tensor
from genrich.ddpm import small_unet, ddpm_schedule, default_ddpm_dir, load_ddpm
from genrich.diffusion_adapters import ClassConditionalUNet, StableDiffusion, tiny_stable_diffusion

@torch.no_grad()
def reference_predict(eps_model, acp, x, n_classes, S, keep, trials, make_cond, batch=32):
    "Per image, per stage, per class, batches of `batch` trials; `make_cond(c, n)` recomputes the conditioning each batch."
    preds, n_evals = [], 0
    for img in x:
        errors = {c: [] for c in range(n_classes)}
        remaining, prev = list(range(n_classes)), 0
        for k_keep, n_tr in zip(keep, trials):
            for c in remaining:
                for s in range(prev, n_tr, batch):
                    j = torch.arange(s, min(s + batch, n_tr))
                    t, e = S.t[0, j], S.eps[0, j]
                    a = acp[t].float().view(-1, *[1]*(x.ndim - 1))
                    xt = a.sqrt()*img[None] + (1 - a).sqrt()*e
                    pred = eps_model(xt, t, make_cond(c, len(j)))
                    errors[c] += eps_error(e, pred, 'l2').double().tolist(); n_evals += len(j)
            means = {c: np.mean(errors[c]) for c in remaining}
            remaining = sorted(remaining, key=lambda c: means[c])[:k_keep]
            prev = n_tr
        preds.append(remaining[0])
    return np.array(preds), n_evals

def run(name, model, acp, x, conds, make_cond, keep, trials, batch_size, ours_model=None):
    ours = DiffusionClassifier(ours_model or model, acp, keep=keep, trials=trials, batch_size=batch_size)
    S = ours.noise_set(x.shape[1:])
    t0 = time.perf_counter(); p_ref, n_ref = reference_predict(model, acp, x, len(conds), S, keep, trials, make_cond); t_ref = time.perf_counter() - t0
    t0 = time.perf_counter(); p_ours = ours.predict(x, conds); t_ours = time.perf_counter() - t0
    assert n_ref == ours.n_evals_, (n_ref, ours.n_evals_)
    r_ref, r_ours = n_ref/t_ref, ours.n_evals_/t_ours
    print(f'| {name} | {len(x)} | {keep} / {trials} | {r_ref:.0f} | {r_ours:.0f} | {r_ours/r_ref:.2f}x | {t_ref/len(x):.2f} / {t_ours/len(x):.2f} | {"yes" if (p_ref == p_ours).all() else f"NO ({(p_ref == p_ours).mean():.2f} agree)"} |')
    return p_ours

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', type=int, default=16); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch-size', type=int, default=32)
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU\n')
    print('| model | images | keep / trials | reference ε-evals/s | ours ε-evals/s | ratio | s/image ref / ours | identical predictions |')
    print('|---|---|---|---|---|---|---|---|')
    # (A) our Fashion-MNIST class-conditional UNet (random weights if the checkpoint is absent)
    xte, _ = load_fashion_mnist('test'); x = images_to_tensor(xte[:a.images])
    if (default_ddpm_dir()/'unet').exists(): unet, sched, _ = load_ddpm(); tag = 'Fashion-MNIST DDPM (ours)'
    else: torch.manual_seed(0); unet, sched, tag = small_unet().eval(), ddpm_schedule(), 'Fashion-MNIST UNet (random init)'
    ad = ClassConditionalUNet(unet, sched)
    cond = lambda c, n: torch.full((n,), c, dtype=torch.long)
    for keep, trials in [((10,), (30,)), ((5, 1), (10, 40))]:
        run(tag, ad, ad.alphas_cumprod, x, ad.conds(), cond, keep, trials, a.batch_size)
    # the same, with our side in bfloat16 (avx512_bf16 CPUs): faster, but predictions may differ from the fp32 reference
    ad16 = ClassConditionalUNet(load_ddpm()[0] if tag.endswith('(ours)') else unet, sched, dtype=torch.bfloat16)
    run(tag + ', ours in bf16', ad, ad.alphas_cumprod, x, ad.conds(), cond, (5, 1), (10, 40), a.batch_size, ours_model=ad16)
    # (B) a tiny random-weight Stable Diffusion: the reference re-encodes the prompt every batch
    with tempfile.TemporaryDirectory() as d:
        sd = StableDiffusion.from_folder(tiny_stable_diffusion(Path(d)/'sd'))
        prompts = [f'a photo of a {w}' for w in ('dog', 'cat', 'photo', 'dog cat', 'cat dog')]
        imgs = [np.random.default_rng(i).integers(0, 256, (40, 40, 3), dtype=np.uint8) for i in range(max(2, a.images//4))]
        lat, emb = sd.encode_images(imgs), sd.encode_prompts(prompts)
        sd_cond = lambda c, n: sd.encode_prompts([prompts[c]]).expand(n, -1, -1)
        run('tiny Stable Diffusion (random init)', sd, sd.alphas_cumprod, lat, emb, sd_cond, (5, 1), (10, 40), a.batch_size)
