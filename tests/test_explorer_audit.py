"""dHash leakage audit (genrich.explorer.audit, App. A.2): hashes, batched Hamming distances against brute force, the report."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from genrich.explorer.audit import dhash, hamming, near_duplicates, leakage_report

def smooth(n, s=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=(s, s), mode='bicubic', align_corners=False).clamp(0, 1)

def bits(h): return np.unpackbits(h, axis=1)

def test_dhash_matches_a_direct_definition():
    x = smooth(5)
    gray = 0.299*x[:, 0] + 0.587*x[:, 1] + 0.114*x[:, 2]
    want = np.zeros((5, 64), np.uint8)
    for n in range(5):                                 # average over the same adaptive cells, loop by loop
        for r in range(8):
            r0, r1 = (r*64)//8, -(-((r+1)*64)//8)
            cells = [gray[n, r0:r1, (c*64)//9:-(-((c+1)*64)//9)].mean() for c in range(9)]
            want[n, r*8:(r+1)*8] = [cells[c+1] > cells[c] for c in range(8)]
    assert (bits(dhash(x)) == want).all()

def test_input_formats_agree():
    x = smooth(3)
    u8 = (x.permute(0, 2, 3, 1).numpy()*255).round().astype(np.uint8)
    h = dhash(u8)
    assert (dhash([Image.fromarray(a) for a in u8]) == dhash(torch.from_numpy(u8).permute(0, 3, 1, 2).float())).all()
    assert hamming(h, dhash(x)).diagonal().max() <= 1             # uint8 rounding may flip a near-tie bit
    with pytest.raises(ValueError): dhash(np.zeros((2, 3)))
    with pytest.raises(ValueError): dhash([])

def test_copies_collide_unrelated_do_not():
    x = smooth(40, seed=1)
    h = dhash(x)
    assert (hamming(h, dhash(x.clone())).diagonal() == 0).all()                                          # identical
    big = F.interpolate(x, size=(100, 100), mode='bilinear', antialias=True, align_corners=False)
    assert hamming(h, dhash(big)).diagonal().max() <= 4                                                   # resized
    shifted = torch.cat([x[..., :1], x[..., :-1]], -1)
    assert hamming(h, dhash(shifted)).diagonal().max() <= 10                                              # shifted 1 px
    d = hamming(h[:20], h[20:])
    assert d.min() > 10 and 24 < d.mean() < 40                                                            # unrelated: ~32 of 64

def test_batched_distances_equal_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (53, 8), dtype=np.uint8), rng.integers(0, 256, (17, 8), dtype=np.uint8)
    brute = np.array([[int(np.sum(bits(r[None]) != bits(s[None]))) for s in b] for r in a])
    assert (hamming(a, b) == brute).all()
    for thr in (0, 20, 28):
        want = sorted((i, j, brute[i, j]) for i in range(53) for j in range(17) if brute[i, j] <= thr)
        for block in (1, 7, 4096):
            assert sorted(map(tuple, near_duplicates(a, b, threshold=thr, block=block).tolist())) == want
    with pytest.raises(ValueError): near_duplicates(a, b, threshold=-1)
    with pytest.raises(ValueError): hamming(a, b[:, :2])
    with pytest.raises(TypeError): hamming(a.astype(int), b)

def test_leakage_report_counts_test_images():
    test = smooth(30, seed=2)
    dl = torch.cat([smooth(100, seed=3), test[[4, 9]], test[[4]]])            # test image 4 downloaded twice
    rep = leakage_report(dl, test)
    assert (rep['n_downloaded'], rep['n_test'], rep['n_leaked'], rep['leaked_test_idx']) == (103, 30, 2, [4, 9])
    assert rep['frac_leaked'] == pytest.approx(2/30)
    assert sorted(p[0] for p in rep['pairs']) == [100, 101, 102]
    assert leakage_report(dhash(dl), dhash(test)) == rep                    # hashes in, same report

def test_pixel_confirmation():
    from genrich.explorer.audit import pixel_difference, confirm_pairs
    def dot(r, c, v=0):
        a = np.full((64, 64, 3), 255, np.uint8); a[r:r+4, c:c+4] = v; return a
    a, b = dot(10, 10), dot(40, 40)
    assert hamming(dhash([a]), dhash([b]))[0, 0] <= 8                     # small unrelated marks: near-colliding hashes
    assert pixel_difference(a, b, background=None) == pytest.approx(2*16/64**2, abs=1e-6)   # and a tiny plain mean
    assert pixel_difference(a, b) == pytest.approx(1.0)                     # but nothing in common where there is ink
    assert pixel_difference(a, a.copy()) == 0.0 and pixel_difference(a, a[:32]) == 1.0
    imgs = [a, b, dot(10, 10, v=3)]
    assert confirm_pairs([[0, 1, 0], [0, 2, 0], [1, 1, 0]], imgs, imgs).tolist() == [[0, 2, 0], [1, 1, 0]]
    t = smooth(2)
    assert confirm_pairs([[0, 0, 0], [0, 1, 0]], t, t.clone(), background=None).tolist() == [[0, 0, 0]]
    with pytest.raises(ValueError): confirm_pairs([[0, 0, 0]], imgs, imgs, pixel_tol=2)
