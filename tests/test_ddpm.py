"""DDPM data and trainer (shared by thesis ch. 3 and ch. 4): IDX loader, resumable training, saved folders."""
import gzip, json, struct, numpy as np, pytest, torch
from diffusers import UNet2DModel
from genrich.data import read_idx, load_fashion_mnist, images_to_tensor
from genrich.ddpm import small_unet, train_class_conditional_ddpm, load_ddpm

torch.set_num_threads(1)

def test_read_idx_roundtrip(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 0x08, 3]) + struct.pack('>3i', *a.shape) + a.tobytes()
    (tmp_path/'a.gz').write_bytes(gzip.compress(raw)); (tmp_path/'a').write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path/'a.gz'), a); np.testing.assert_array_equal(read_idx(tmp_path/'a'), a)
    (tmp_path/'b').write_bytes(raw[:-1])
    with pytest.raises(ValueError, match='header says'): read_idx(tmp_path/'b')

def test_fashion_mnist_loader():
    x, y = load_fashion_mnist('test')
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and np.bincount(y).tolist() == [1000]*10
    t = images_to_tensor(x[:2]); assert t.shape == (2, 1, 28, 28) and -1 <= float(t.min()) and float(t.max()) <= 1
    with pytest.raises(ValueError, match="split='dev'"): load_fashion_mnist('dev')

def _tiny():
    torch.manual_seed(0); return small_unet(sample_size=8, block_out_channels=(8, 8), num_classes=3)

def test_resume_equals_uninterrupted(tmp_path):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(32, 1, 8, 8, generator=g)*2 - 1, torch.randint(0, 3, (32,), generator=g)
    kw = dict(batch_size=4, checkpoint_every=2, log_every=1, label_dropout=0.3)
    train_class_conditional_ddpm(x, y, tmp_path/'a', model=_tiny(), steps=5, **kw)
    train_class_conditional_ddpm(x, y, tmp_path/'b', model=_tiny(), steps=2, **kw)
    rec = train_class_conditional_ddpm(x, y, tmp_path/'b', model=_tiny(), steps=5, **kw)
    assert rec['step'] == 5 and rec['done'] and len(rec['losses']) == 5
    a, b = UNet2DModel.from_pretrained(tmp_path/'a'/'unet'), UNet2DModel.from_pretrained(tmp_path/'b'/'unet')
    for p, q in zip(a.parameters(), b.parameters()): torch.testing.assert_close(p, q)
    unet, sched, r = load_ddpm(tmp_path/'a'); assert r['config']['null_label'] == 3 and len(sched.alphas_cumprod) == 1000

def test_trainer_bad_input(tmp_path):
    x, y = torch.zeros(4, 1, 8, 8), torch.tensor([0, 1, 2, 5])
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 3\)'): train_class_conditional_ddpm(x, y, tmp_path, num_classes=3, steps=1)
    with pytest.raises(ValueError, match='images must be'): train_class_conditional_ddpm(x[0], y, tmp_path, steps=1)
    with pytest.raises(ValueError, match='images contains NaN'): train_class_conditional_ddpm(x*float('nan'), y, tmp_path, steps=1)
    with pytest.raises(FileNotFoundError, match='unet/config.json'): load_ddpm(tmp_path/'none')

def test_committed_model_loads():
    unet, sched, rec = load_ddpm()
    assert unet.config.num_class_embeds == 11 and rec['step'] > 0 and rec['config']['label_dropout'] == 0.1
