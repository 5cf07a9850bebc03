"""Adapters (thesis ch. 3, App. B.6): tiny random-weight diffusers models saved and reloaded from local folders."""
import shutil, numpy as np, pytest, torch
from diffusers import UNet2DModel, DDPMScheduler
from genrich.diffusion_classifier import DiffusionClassifier
from genrich.diffusion_adapters import (ClassConditionalUNet, StableDiffusion, DiT, MissingWeightsError, tiny_stable_diffusion,
                                        tiny_dit, center_crop_resize, tiny_clip_tokenizer)

torch.set_num_threads(1)

def _unet_folder(d):
    torch.manual_seed(0)
    m = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(8, 8), layers_per_block=1,
                    down_block_types=('DownBlock2D',)*2, up_block_types=('UpBlock2D',)*2, norm_num_groups=4, num_class_embeds=4)
    m.save_pretrained(d/'unet'); DDPMScheduler().save_pretrained(d/'scheduler')
    return m

def test_class_conditional_unet_roundtrip_and_classifier(tmp_path):
    m = _unet_folder(tmp_path)
    ad = ClassConditionalUNet.from_folder(tmp_path)
    x, t, y = torch.randn(3, 1, 8, 8), torch.tensor([0, 500, 999]), torch.tensor([0, 1, 2])
    with torch.no_grad(): torch.testing.assert_close(ad(x, t, y), m(x, t, class_labels=y).sample)
    clf = ad.classifier(trials=(8,), batch_size=7)
    err = clf.class_errors(x, ad.conds())
    assert err.shape == (3, 3) and np.isfinite(err).all()
    # the estimator calls the model with exactly Eq. 3.7's x_t: recompute one error by hand
    S = clf.noise_set((1, 8, 8)); a = ad.alphas_cumprod[S.t[0, 0]]
    xt = a.sqrt()*x[:1] + (1 - a).sqrt()*S.eps[0, :1]
    with torch.no_grad(): e0 = ((m(xt, S.t[0, :1], class_labels=torch.tensor([1])).sample - S.eps[0, :1])**2).mean().item()
    assert clf.trial_errors(x[:1], ad.conds())[0, 0, 1] == pytest.approx(e0, rel=1e-5)

def test_missing_weights_folder_names_expected_files(tmp_path):
    with pytest.raises(ValueError, match='unet/diffusion_pytorch_model.safetensors'):
        ClassConditionalUNet.from_folder(tmp_path/'nope')
    _unet_folder(tmp_path); (tmp_path/'scheduler'/'scheduler_config.json').unlink()
    with pytest.raises(MissingWeightsError, match='scheduler/scheduler_config.json'):
        ClassConditionalUNet.from_folder(tmp_path)
    with pytest.raises(ValueError, match='text_encoder/model.safetensors'):
        StableDiffusion.from_folder(tmp_path)
    with pytest.raises(ValueError, match='transformer/'):
        DiT.from_folder(tmp_path)

def test_stable_diffusion_tiny_folder(tmp_path):
    sd = StableDiffusion.from_folder(tiny_stable_diffusion(tmp_path/'sd'))
    assert sd.sample_shape == (4, 16, 16) and sd.resolution == 32
    imgs = [np.random.default_rng(i).integers(0, 256, (48, 32, 3), dtype=np.uint8) for i in range(2)]
    lat = sd.encode_images(imgs)
    emb = sd.encode_prompts(['a photo of a dog', 'a photo of a cat', 'a dog', 'a cat'])
    assert lat.shape == (2, 4, 16, 16) and emb.shape == (4, 16, 32)
    clf = sd.classifier(trials=(4,))
    e4 = clf.class_errors(lat, emb)
    e2 = clf.class_errors(lat, emb, groups=[0, 1, 0, 1])               # two prompts per class, averaged
    np.testing.assert_allclose(e2, (e4[:, [0, 1]] + e4[:, [2, 3]])/2, rtol=1e-6)
    with pytest.raises(ValueError, match='model expects'): clf.predict(torch.zeros(1, 4, 8, 8), emb)

def test_preprocessing_b61():
    img = np.zeros((30, 90, 3), np.uint8); img[:, 45:] = 200
    out = center_crop_resize(img, 10)
    assert out.shape == (3, 10, 10) and out.min() >= -1 and out.max() <= 1
    assert out[:, :, 0].max() == -1 and np.allclose(out[:, :, -1], 200/127.5 - 1, atol=1e-2)

def test_dit_learned_sigma(tmp_path):
    dit = DiT.from_folder(tiny_dit(tmp_path/'dit', num_classes=3))
    lat = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        full = dit.transformer(lat, timestep=torch.tensor([3, 900]), class_labels=torch.tensor([0, 2])).sample
        torch.testing.assert_close(dit(lat, torch.tensor([3, 900]), torch.tensor([0, 2])), full[:, :4])
    assert dit.classifier(trials=(3,)).predict(lat, dit.conds()).shape == (2,)

def test_tiny_tokenizer_spells_words():
    tk = tiny_clip_tokenizer(('zebra',))
    assert tk.convert_ids_to_tokens(tk('zebra').input_ids)[1] == 'zebra</w>'

@pytest.mark.gpu
def test_real_stable_diffusion_folder():
    "Runs only with CUDA and a local SD 2.x folder named by GENRICH_SD_PATH (no download)."
    import os
    path = os.environ.get('GENRICH_SD_PATH')
    if not path: pytest.skip('set GENRICH_SD_PATH to a local stable-diffusion-2-base folder')
    sd = StableDiffusion.from_folder(path, dtype=torch.float16)
    assert sd.sample_shape == (4, 64, 64)
    img = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    p = sd.classifier(keep=(2, 1), trials=(5, 10)).predict_proba(sd.encode_images([img]), sd.encode_prompts(['a dog', 'a cat', 'a car']))
    assert np.isclose(p.sum(), 1)

def test_eps_shared_equals_plain_forward_and_classifier_uses_it(tmp_path):
    "The class-independent start run once per x_t (and the sub-pixel upsample) gives the plain forward's ε, and the same class errors."
    m = _unet_folder(tmp_path); ad = ClassConditionalUNet.from_folder(tmp_path)
    g = torch.Generator().manual_seed(1)
    xu, tu = torch.randn(3, 1, 8, 8, generator=g), torch.tensor([3, 480, 990])
    idx, cs = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 0, 2, 0, 1, 2])
    with torch.no_grad():
        torch.testing.assert_close(ad.eps_shared(xu, tu, idx, cs), m(xu[idx], tu[idx], class_labels=cs).sample, rtol=1e-5, atol=1e-5)
    class Plain:                                                  # the same model without eps_shared
        def __init__(s, f): s.f, s.sample_shape = f, f.sample_shape
        def __call__(s, *a): return s.f(*a)
    x = torch.randn(4, 1, 8, 8, generator=g)
    e_shared = ad.classifier(trials=(6,), batch_size=9).class_errors(x, ad.conds())
    e_plain = DiffusionClassifier(Plain(ad), ad.alphas_cumprod, trials=(6,), batch_size=9).class_errors(x, ad.conds())
    np.testing.assert_allclose(e_shared, e_plain, rtol=1e-5)

def test_subpixel_upsample_conv_matches_upsample2d():
    from diffusers.models.upsampling import Upsample2D
    from genrich.diffusion_adapters import subpixel_weights, subpixel_upsample_conv
    g = torch.Generator().manual_seed(0)
    for H, W in [(7, 7), (3, 5), (1, 1)]:
        up = Upsample2D(4, use_conv=True, out_channels=6).eval(); x = torch.randn(2, 4, H, W, generator=g)
        with torch.no_grad():
            torch.testing.assert_close(subpixel_upsample_conv(x, *subpixel_weights(up.conv.weight, up.conv.bias)), up(x), rtol=1e-5, atol=1e-5)

def test_bfloat16_unet_matches_fp32_on_fashion_mnist():
    "dtype=bfloat16 (the CPU fast path): eps within 5 % of max |eps| of the fp32 forward, same predictions on real test images."
    import copy
    from genrich.ddpm import load_ddpm
    from genrich.data import load_fashion_mnist, images_to_tensor
    unet, sched, _ = load_ddpm()
    ad32, ad16 = ClassConditionalUNet(unet, sched), ClassConditionalUNet(copy.deepcopy(unet), sched, dtype=torch.bfloat16)
    assert ad16.dtype == torch.bfloat16 and next(ad16.unet.parameters()).dtype == torch.bfloat16
    xte, _ = load_fashion_mnist('test'); x = images_to_tensor(xte[[0, 1, 2, 3, 5, 8]])   # no near-tied classes in fp32
    ts, eps = torch.tensor([10, 250, 500, 750, 990, 100]), torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    a = ad32.alphas_cumprod[ts].float().view(-1, 1, 1, 1); xt = a.sqrt()*x + (1 - a).sqrt()*eps
    idx, cs = torch.arange(6).repeat_interleave(10), torch.arange(10).repeat(6)
    with torch.inference_mode(): e32, e16 = ad32(xt[idx], ts[idx], cs), ad16.eps_shared(xt, ts, idx, cs).float()
    assert (e16 - e32).abs().max() < 0.05*e32.abs().max()
    assert (e16 - e32).abs().max() > 0                                  # it really ran in lower precision
    kw = dict(keep=(5, 1), trials=(10, 40))
    err32, err16 = ad32.classifier(**kw).class_errors(x, ad32.conds()), ad16.classifier(**kw).class_errors(x, ad16.conds())
    np.testing.assert_array_equal(np.nanargmin(err16, 1), np.nanargmin(err32, 1))
    ok = ~np.isnan(err32) & ~np.isnan(err16)
    assert np.abs(err16[ok]/err32[ok] - 1).max() < 0.02

@pytest.mark.parametrize('bad, exc', [(torch.int8, ValueError), ('bf16', ValueError), (16, TypeError)])
def test_adapter_dtype_errors(tmp_path, bad, exc):
    _unet_folder(tmp_path)
    with pytest.raises(exc, match=r'dtype=.*is not allowed; use None or one of torch.float32, torch.bfloat16'):
        ClassConditionalUNet.from_folder(tmp_path, dtype=bad)
    assert ClassConditionalUNet.from_folder(tmp_path, dtype='float16').dtype == torch.float16

def test_screened_predict_recovers_fp32_predictions_on_near_ties():
    "bf16 flips near-tied predictions; screened_predict (bf16 screen + fp32 rescoring of near ties, same S) gives the fp32 ones."
    import copy
    from genrich.ddpm import load_ddpm
    from genrich.data import load_fashion_mnist, images_to_tensor
    from genrich.diffusion_adapters import screened_predict
    unet, sched, _ = load_ddpm()
    ad32, ad16 = ClassConditionalUNet(unet, sched), ClassConditionalUNet(copy.deepcopy(unet), sched, dtype='bfloat16')
    xte, _ = load_fashion_mnist('test'); x = images_to_tensor(xte[[4, 6, 7, 10]])   # fp32 top-2 gaps 0.003-0.8 %
    c32, c16 = ad32.classifier(trials=(30,)), ad16.classifier(trials=(30,))
    p32, p16 = c32.predict(x, ad32.conds()), c16.predict(x, ad16.conds())
    assert (p16 != p32).any()
    np.testing.assert_array_equal(screened_predict(c16, c32, x, ad32.conds()), p32)
    assert 0 < c32.n_evals_ < 4*30*10 == c16.n_evals_
    with pytest.raises(ValueError, match='differ in keep'): screened_predict(ad16.classifier(keep=(5, 1), trials=(10, 30)), c32, x, ad32.conds())
    with pytest.raises(ValueError, match='paired=False'): screened_predict(ad16.classifier(trials=(30,), paired=False), c32, x, ad32.conds())
    with pytest.raises(ValueError, match='margin'): screened_predict(c16, c32, x, ad32.conds(), margin=0)
    with pytest.raises(ValueError, match='differ in seed'): screened_predict(ad16.classifier(trials=(30,), seed=1), c32, x, ad32.conds())
    with pytest.raises(ValueError, match='margin'): screened_predict(c16, c32, x, ad32.conds(), margin=-0.1)
    with pytest.raises(TypeError, match='exact must be a DiffusionClassifier'): screened_predict(c16, ad32, x, ad32.conds())
    other_S = ad32.classifier(trials=(30,), seed=1).noise_set(x.shape[1:])          # same settings, another saved S
    with pytest.raises(ValueError, match='different noise sets S'): screened_predict(c16, ad32.classifier(trials=(30,), noise=other_S), x, ad32.conds())

def test_screened_predict_adaptive_equals_exact_adaptive():
    "Alg. 3 screened stage by stage gives the fp32 adaptive predictions: default margin (near ties rescored), a huge one (every image rerun exactly), a tiny one (bf16 ranks trusted; fast == exact here)."
    import copy
    from genrich.ddpm import load_ddpm
    from genrich.data import load_fashion_mnist, images_to_tensor
    from genrich.diffusion_adapters import screened_predict
    unet, sched, _ = load_ddpm()
    ad32, ad16 = ClassConditionalUNet(unet, sched), ClassConditionalUNet(copy.deepcopy(unet), sched, dtype='bfloat16')
    xte, _ = load_fashion_mnist('test'); x = images_to_tensor(xte[[4, 6, 7, 10, 11, 12]])
    kw = dict(keep=(4, 2, 1), trials=(5, 10, 20))
    exact = ad32.classifier(**kw); p32 = exact.predict(x, ad32.conds()); n_exact = exact.n_evals_
    fast = ad16.classifier(**kw)
    np.testing.assert_array_equal(screened_predict(fast, exact, x, ad32.conds()), p32)
    assert 0 < exact.n_evals_ < n_exact <= fast.n_evals_                  # bf16 scores a superset of Alg. 3's classes; fp32 only the near ties
    np.testing.assert_array_equal(screened_predict(ad32.classifier(**kw), ad32.classifier(**kw), x, ad32.conds(), margin=0.99), p32)
    np.testing.assert_array_equal(screened_predict(ad32.classifier(**kw), ad32.classifier(**kw), x, ad32.conds(), margin=1e-9), p32)
