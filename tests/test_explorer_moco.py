"""MoCo-v3 pieces of Internet Explorer (thesis §2.1.3, Eq. 2.1, Table A.3): augmentations, InfoNCE, EMA, LARS, resumable training."""
import numpy as np, pytest, torch, torch.nn as nn, torch.nn.functional as F
from genrich.explorer.moco import augment, infonce, MoCo, LARS, train_ssl, extract_features, to_float

torch.set_num_threads(1)

def test_augment_shapes_range_seed():
    x = torch.rand(5, 3, 20, 20)
    a = augment(x, torch.Generator().manual_seed(0), size=10)
    assert a.shape == (5, 3, 10, 10) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, augment(x, torch.Generator().manual_seed(0), size=10))
    x1 = torch.rand(4, 1, 12, 12); assert augment(x1, torch.Generator().manual_seed(0)).shape == (4, 1, 12, 12)
    u8 = (torch.rand(3, 3, 8, 8)*255).to(torch.uint8); assert augment(u8, torch.Generator().manual_seed(0)).dtype == torch.float32
    with pytest.raises(ValueError, match='min_area'): augment(x, torch.Generator(), min_area=1.5)
    with pytest.raises(ValueError, match='shape'): to_float(torch.rand(3, 8, 8))

def test_crop_is_inside_and_area_bounded():
    # a constant image stays constant under crop + flip with jitter off; a ramp's crop covers >= sqrt(0.2) of the width
    x = torch.linspace(0, 1, 64).repeat(64, 1)[None, None].repeat(200, 1, 1, 1)
    v = augment(x, torch.Generator().manual_seed(1), jitter_p=0, gray_p=0, flip_p=0, ratio=(1, 1))
    width = v[:, 0, 32, -1] - v[:, 0, 32, 0]
    assert (width > np.sqrt(0.2) - 0.05).all() and (width <= 1 + 1e-6).all()

def brute_infonce(q, k, tau):
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    out = []
    for i in range(len(q)):
        num = np.exp(float(q[i] @ k[i])/tau)
        den = sum(np.exp(float(q[i] @ k[j])/tau) for j in range(len(k)))
        out.append(-np.log(num/den))
    return np.array(out)

@pytest.mark.parametrize('tau', [1.0, 0.2])
def test_infonce_brute_force(tau):
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(9, 4, generator=g, dtype=torch.float64), torch.randn(9, 4, generator=g, dtype=torch.float64)
    np.testing.assert_allclose(infonce(q, k, tau, 'none').numpy(), brute_infonce(q, k, tau), rtol=1e-10)
    with pytest.raises(ValueError, match='tau'): infonce(q, k, 0)

def test_ema_exact_and_no_grad():
    torch.manual_seed(0); m = MoCo(widths=(4, 8), blocks=(1, 1), proj_hidden=8, dim=4, pred_hidden=8)
    with torch.no_grad():
        for p in m.online_parameters(): p.mul_(2).add_(1)
    before = [p.clone() for p in m.momentum_parameters()]
    m.update_momentum(0.75)
    for pm, b, p in zip(m.momentum_parameters(), before, m.online_parameters()):
        assert torch.allclose(pm, 0.75*b + 0.25*p, atol=0, rtol=1e-6)
    assert all(not p.requires_grad for p in m.momentum_parameters())

def test_lars_step_by_hand():
    w = nn.Parameter(torch.tensor([[1.0, 2.0, 2.0]], dtype=torch.float64)); b = nn.Parameter(torch.tensor([0.5], dtype=torch.float64))
    opt = LARS([w, b], lr=0.1, weight_decay=0.5, momentum=0.9, trust_coefficient=0.02)
    g = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    w.grad, b.grad = g.clone(), torch.tensor([2.0], dtype=torch.float64); opt.step()
    u = g + 0.5*torch.tensor([[1.0, 2.0, 2.0]], dtype=torch.float64)     # |w| = 3
    expect = torch.tensor([[1.0, 2.0, 2.0]], dtype=torch.float64) - 0.1*(0.02*3/u.norm())*u
    assert torch.allclose(w, expect, atol=1e-14) and torch.allclose(b, torch.tensor([0.5 - 0.2], dtype=torch.float64))

def blobs(n=48, size=12, seed=0):
    r = np.random.default_rng(seed); yy, xx = np.mgrid[:size, :size]; out = np.zeros((n, 3, size, size), np.uint8)
    for i in range(n):
        cy, cx = r.uniform(3, size - 3, 2)
        out[i][:, (yy - cy)**2 + (xx - cx)**2 < r.uniform(2, 4)**2] = r.integers(60, 255, 3)[:, None]
    return out

def small(): torch.manual_seed(0); return MoCo(widths=(8, 16), blocks=(1, 1), proj_hidden=32, dim=16, pred_hidden=32, tau=0.2, momentum=0.99)

def test_training_lowers_loss_and_resumes_exactly(tmp_path):
    x = blobs()
    m = small(); h = train_ssl(m, x, epochs=8, batch_size=24, optimizer='adamw', lr=3e-3, seed=1)
    assert np.mean(h[-2:]) < h[0]
    a = small(); train_ssl(a, x, epochs=3, batch_size=24, optimizer='adamw', lr=3e-3, seed=1, checkpoint=tmp_path/'c.pt')
    b = small(); hb = train_ssl(b, x, epochs=8, batch_size=24, optimizer='adamw', lr=3e-3, seed=1, checkpoint=tmp_path/'c.pt')
    assert hb == h and all(torch.equal(p, q) for p, q in zip(b.state_dict().values(), m.state_dict().values()))
    f = extract_features(m, x); assert f.shape == (48, 16) and np.isfinite(f).all()

def test_lars_trains():
    x = blobs(seed=2); m = small(); h = train_ssl(m, x, epochs=3, batch_size=24, optimizer='lars', lr=0.5)
    assert np.isfinite(h).all()
    with pytest.raises(ValueError, match='name'): train_ssl(m, x, epochs=1, optimizer='sgd')

def test_seeded_pretraining_repeats_exactly_in_a_fresh_process(tmp_path):
    "The same seed gives the same MoCo-v3 weights and losses in another process (the agent's pretraining, App. A.3.5)."
    import subprocess, sys
    from genrich.core import repo_root
    code = ("import sys, torch, numpy as np; torch.set_num_threads(1)\n"
            "from genrich.explorer.moco import MoCo, train_ssl\n"
            "x = (np.random.default_rng(0).random((40, 1, 16, 16))*255).astype(np.uint8)\n"
            "torch.manual_seed(0); m = MoCo(in_channels=1, widths=(8, 16), blocks=(1, 1), proj_hidden=16, dim=8, pred_hidden=16)\n"
            "h = train_ssl(m, x, epochs=2, batch_size=16, optimizer='adamw', lr=1e-3, seed=3)\n"
            "torch.save(dict(h=h, sd=m.state_dict()), sys.argv[1])\n")
    env = {'PYTHONPATH': str(repo_root()), 'GENRICH_PROGRESS': '0', 'OMP_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin'}
    for name in ('a', 'b'): subprocess.run([sys.executable, '-c', code, str(tmp_path/name)], check=True, env=env)
    a, b = torch.load(tmp_path/'a'), torch.load(tmp_path/'b')
    assert a['h'] == b['h'] and all(torch.equal(a['sd'][k], b['sd'][k]) for k in a['sd'])
