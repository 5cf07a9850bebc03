"""genrich.fast_unet: the fused kernel against its PyTorch fallback, the fallback when the kernel is off, and the model forward on the committed Fashion-MNIST UNet."""
import os, subprocess, sys
import numpy as np
import pytest
import torch
import genrich.fast_unet as fu
from genrich.fast_unet import FastUNet2D, cpu_kernels, gn_silu, gn_silu_reference
from genrich.ddpm import load_ddpm, small_unet

def _inputs(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 1000, (n,), generator=g), torch.randint(0, 10, (n,), generator=g)

def test_kernel_off_falls_back_to_pytorch(monkeypatch):
    "With the kernel disabled the model still runs (PyTorch GroupNorm), and agrees with the kernel path to bfloat16 rounding."
    torch.manual_seed(0); unet = small_unet().eval(); m = FastUNet2D(unet); x, t, c = _inputs()
    with_kernel = m(x, t, c)
    monkeypatch.setitem(fu._KERNELS, 'mod', None)
    assert cpu_kernels() is None
    without = m(x, t, c)
    assert (without - with_kernel).abs().max() <= 0.02*with_kernel.abs().max()
    with torch.inference_mode(): ref = unet(x, t, class_labels=c).sample
    assert (without - ref).abs().max() <= 0.05*ref.abs().max()

def test_float32_path_matches_diffusers_with_and_without_the_kernel(monkeypatch):
    "FastUNet2D(dtype=float32) computes the model to float32 rounding, through the kernel and through the PyTorch fallback."
    torch.manual_seed(0); unet = small_unet().eval(); m = FastUNet2D(unet, dtype=torch.float32); x, t, c = _inputs()
    with torch.inference_mode(): ref = unet(x, t, class_labels=c).sample
    tol = 1e-5*ref.abs().max()
    assert (m(x, t, c) - ref).abs().max() <= tol
    monkeypatch.setitem(fu._KERNELS, 'mod', None)
    assert (m(x, t, c) - ref).abs().max() <= tol

def test_env_var_disables_the_build():
    "GENRICH_NO_CPU_KERNELS: no build, `cpu_kernels()` is None and says why."
    code = "import genrich.fast_unet as f; print(f.cpu_kernels() is None, f.cpu_kernels.why)"
    out = subprocess.run([sys.executable, '-c', code], env={**os.environ, 'GENRICH_NO_CPU_KERNELS': '1'}, capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'True GENRICH_NO_CPU_KERNELS is set'

@pytest.mark.skipif(cpu_kernels() is None, reason=f'fused kernel not available: {cpu_kernels.why}')
def test_kernel_rounds_like_the_reference_on_real_activations():
    "On the activations of the trained UNet (not random data), kernel and reference differ by at most one bfloat16 step."
    unet, _, _ = load_ddpm(); x, t, c = _inputs(4)
    acts = []
    h = unet.conv_norm_out.register_forward_hook(lambda m, i, o: acts.append(i[0]))
    with torch.inference_mode(): unet(x, t, class_labels=c)
    h.remove()
    a = acts[0].to(torch.bfloat16).contiguous(memory_format=torch.channels_last); n = unet.conv_norm_out
    y = gn_silu(a, None, n.weight.detach(), n.bias.detach(), n.num_groups, n.eps)
    r = gn_silu_reference(a, None, n.weight.detach(), n.bias.detach(), n.num_groups, n.eps)
    assert ((y.float() - r.float()).abs() <= r.float().abs()*2**-7 + 1e-5*r.float().abs().max()).all()

def test_trained_unet_classifies_like_fp32():
    "Committed Fashion-MNIST model: the fused forward's ε stays within bfloat16 error of fp32 at every timestep range."
    unet, sched, _ = load_ddpm(); m = FastUNet2D(unet)
    for lo, hi in [(0, 50), (400, 600), (900, 1000)]:
        x, _, c = _inputs(8, seed=lo); t = torch.randint(lo, hi, (8,), generator=torch.Generator().manual_seed(hi))
        with torch.inference_mode(): ref = unet(x, t, class_labels=c).sample
        rel = ((m(x, t, c) - ref).norm()/ref.norm()).item()
        assert rel < 0.03, (lo, hi, rel)
