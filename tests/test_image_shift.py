"""Tests of the Fashion-MNIST subpopulation-shift benchmark (genrich.image_shift)."""
import numpy as np
import pytest
from genrich.data import load_fashion_mnist, FASHION_MNIST_CLASSES
from genrich.image_shift import (TOPS, FOOTWEAR, BACKGROUNDS, binary_label, paint_background,
                                 sample_fashion_groups, make_fashion_shift)

@pytest.fixture(scope='module')
def raw():
    try: return {s: load_fashion_mnist(s) for s in ('train', 'test')}
    except FileNotFoundError as e: pytest.skip(str(e))

@pytest.fixture(scope='module')
def shift(raw): return make_fashion_shift(data=raw, rho=0.95, n_train=2000, n_val=400, n_test_per_group=200, seed=3)

def test_class_mapping():
    assert [FASHION_MNIST_CLASSES[c] for c in TOPS] == ['T-shirt/top', 'Pullover', 'Shirt']
    assert [FASHION_MNIST_CLASSES[c] for c in FOOTWEAR] == ['Sandal', 'Sneaker', 'Ankle boot']
    assert binary_label(np.arange(10)).tolist() == [0, -1, 0, -1, -1, 1, 0, 1, -1, 1]

def test_group_counts_and_rho(shift):
    tr, va, te = shift['train'], shift['val'], shift['test']
    assert np.bincount(tr.g, minlength=4).tolist() == [950, 50, 50, 950]
    assert abs(np.mean(tr.a == tr.y) - 0.95) < 1e-9
    assert np.bincount(va.g, minlength=4).tolist() == [100] * 4
    assert np.bincount(te.g, minlength=4).tolist() == [200] * 4
    for s in (tr, va, te):
        assert np.array_equal(s.g, 2 * s.y + s.a)
        assert s.x.dtype == np.uint8 and s.x.shape[1:] == (28, 28, 3)

@pytest.mark.parametrize('rho', [0.5, 0.8, 0.99])
def test_rho_requested(raw, rho):
    tr = make_fashion_shift(data=raw, rho=rho, n_train=1000, n_val=100, n_test_per_group=10)['train']
    assert abs(np.mean(tr.a == tr.y) - rho) <= 1 / 1000

def test_labels_follow_classes(raw):
    plan = sample_fashion_groups(raw['train'][1], raw['test'][1], n_train=1000, n_val=200, n_test_per_group=100, seed=1)
    for name, (src, idx, g) in plan.items():
        cls = raw[src][1][idx]
        assert np.isin(cls[g // 2 == 0], TOPS).all() and np.isin(cls[g // 2 == 1], FOOTWEAR).all(), name
    assert plan['test'][0] == 'test' and plan['train'][0] == plan['val'][0] == 'train'

def test_disjoint_splits(raw):
    plan = sample_fashion_groups(raw['train'][1], raw['test'][1], n_train=4000, n_val=1000, n_test_per_group=500, seed=0)
    tr, va = set(plan['train'][1]), set(plan['val'][1])
    assert len(tr) == 4000 and len(va) == 1000 and not (tr & va)
    assert len(set(plan['test'][1])) == 2000

def test_images_are_painted_originals(raw, shift):
    "Each split image equals an independent re-painting of its source image (numpy reference)."
    plan = sample_fashion_groups(raw['train'][1], raw['test'][1], rho=0.95, n_train=2000, n_val=400, n_test_per_group=200, seed=3)
    for name, (src, idx, g) in plan.items():
        grey = raw[src][0][idx[:50]].astype(float)[..., None]; bg = BACKGROUNDS[g[:50] % 2][:, None, None, :].astype(float)
        ref = np.round(grey / 255 * grey + (1 - grey / 255) * bg)
        assert np.array_equal(shift[name].x[:50], ref.astype(np.uint8)), name

def test_backgrounds_differ_by_attribute(shift):
    te = shift['test']
    corner_dark = te.x[:, :2, :2].reshape(len(te), -1, 3).mean(1)        # mean colour of the top-left corner
    m0, m1 = corner_dark[te.a == 0].mean(0), corner_dark[te.a == 1].mean(0)
    assert np.linalg.norm(m0 - m1) > 150
    assert np.linalg.norm(m0 - BACKGROUNDS[0]) < 30 and np.linalg.norm(m1 - BACKGROUNDS[1]) < 30
    # within a label, the attribute changes only the background, not the garment statistics
    assert abs(te.x[te.a == 0].max(-1).mean() - te.x[te.a == 1].max(-1).mean()) < 30

def test_seeded(raw):
    kw = dict(data=raw, n_train=300, n_val=40, n_test_per_group=20)
    a, b, c = make_fashion_shift(seed=7, **kw), make_fashion_shift(seed=7, **kw), make_fashion_shift(seed=8, **kw)
    for k in ('train', 'val', 'test'):
        assert np.array_equal(a[k].x, b[k].x) and np.array_equal(a[k].g, b[k].g)
    assert not np.array_equal(a['train'].x, c['train'].x)

def test_resize(raw):
    sp = make_fashion_shift(data=raw, n_train=100, n_val=20, n_test_per_group=5, size=16)
    assert sp['train'].x.shape == (100, 16, 16, 3) and sp['train'].x.dtype == np.uint8

def test_paint_background_rejects():
    with pytest.raises(ValueError, match='a must be'): paint_background(np.zeros((2, 4, 4), np.uint8), np.array([0, 3]))
    with pytest.raises(ValueError, match='images must be'): paint_background(np.zeros((2, 4, 4)), np.array([0, 1]))

@pytest.mark.parametrize('kw, match', [
    (dict(rho=1.5), 'rho=1.5'), (dict(rho=-0.1), 'rho=-0.1'),
    (dict(n_train=0), 'n_train=0'), (dict(n_val=-3), 'n_val=-3'), (dict(n_test_per_group=0), 'n_test_per_group=0'),
    (dict(size=4), 'size=4'), (dict(n_test_per_group=1501), 'test needs 3002'),
    (dict(n_train=36000, n_val=10), 'train needs'), (dict(n_val=40000), 'val needs')])
def test_bad_input(raw, kw, match):
    with pytest.raises(ValueError, match=match): make_fashion_shift(data=raw, **kw)

def test_bad_types(raw):
    with pytest.raises(TypeError, match='n_train'): make_fashion_shift(data=raw, n_train=10.5)

def test_shortcut_is_real(shift):
    "A pixel logistic regression learns the background: worst group well below average on balanced test."
    from sklearn.linear_model import LogisticRegression
    from genrich.metrics import accuracy, worst_group_accuracy
    tr, te = shift['train'], shift['test']
    clf = LogisticRegression(C=0.1, max_iter=300).fit(tr.x.reshape(len(tr), -1) / 255, tr.y)
    pred = clf.predict(te.x.reshape(len(te), -1) / 255)
    assert worst_group_accuracy(te.y, pred, te.g) < accuracy(te.y, pred) - 0.1

@pytest.mark.parametrize('n, rho', [(100, 0.95), (101, 0.95), (7, 0.5), (999, 0.8)])
def test_sizes_exact(raw, n, rho):
    sp = make_fashion_shift(data=raw, rho=rho, n_train=n, n_val=n, n_test_per_group=3)
    assert len(sp['train']) == n and len(sp['val']) == n and len(sp['test']) == 12
    assert abs(np.mean(sp['train'].a == sp['train'].y) - rho) <= 0.5 / n + 1e-12

def test_erm_resnet_takes_the_shortcut(raw):
    "The chapter's ERM baseline (small ResNet) also falls for the background on the balanced test split."
    from genrich.discriminative import DiscriminativeClassifier
    sp = make_fashion_shift(data=raw, n_train=2000, n_val=200, n_test_per_group=100, size=16, seed=0)
    runs = [DiscriminativeClassifier('erm', width=16, depth=2, epochs=5, lr=1e-3, batch_size=64, random_state=rs)
            .fit(sp['train'], sp['val']).evaluate(sp['test']) for rs in range(3)]
    assert np.mean([r['accuracy'] - r['worst_group_accuracy'] for r in runs]) > 0.2

def test_plot_group_grid(shift):
    import matplotlib.pyplot as plt
    from genrich.image_shift import plot_group_grid
    fig = plot_group_grid(shift['train'], n=3)
    assert len(fig.axes) == 12 and sum(len(ax.images) for ax in fig.axes) == 12
    assert 'n=50' in fig.axes[3].get_title(loc='left')           # group 1 (top / blue) is the minority
    plt.close(fig)
    with pytest.raises(ValueError, match='n=0'): plot_group_grid(shift['train'], n=0)

def test_texture_background(raw):
    from genrich.image_shift import paint_texture
    col = make_fashion_shift(data=raw, n_train=400, n_val=40, n_test_per_group=10, size=16, seed=2)
    tex = make_fashion_shift(data=raw, n_train=400, n_val=40, n_test_per_group=10, size=16, seed=2, background='texture')
    for k in col:
        assert np.array_equal(col[k].y, tex[k].y) and np.array_equal(col[k].g, tex[k].g)
        assert (tex[k].x[..., 0] == tex[k].x[..., 2]).all()                  # grey: the attribute is the texture, not a colour
    blank = np.zeros((2, 8, 8), np.uint8)
    t = paint_texture(blank, np.array([0, 1]), period=4, seed=0)[..., 0]
    assert (t[0] == t[0][:, :1]).all() and not (t[0] == t[0][:1]).all()      # a=0: horizontal stripes
    assert (t[1] == t[1][:1]).all() and not (t[1] == t[1][:, :1]).all()      # a=1: vertical stripes
    with pytest.raises(ValueError, match="background='plaid'"): make_fashion_shift(data=raw, background='plaid')

def test_hard_classes_tshirt_vs_shirt(raw):
    from genrich.image_shift import SHIRTS
    assert [[FASHION_MNIST_CLASSES[c] for c in k] for k in SHIRTS] == [['T-shirt/top'], ['Shirt']]
    assert binary_label(np.arange(10), SHIRTS).tolist() == [0, -1, -1, -1, -1, -1, 1, -1, -1, -1]
    kw = dict(rho=0.95, n_train=4000, n_val=400, n_test_per_group=200, size=16, seed=0)
    sp = make_fashion_shift(data=raw, classes=SHIRTS, **kw)
    plan = sample_fashion_groups(raw['train'][1], raw['test'][1], classes=SHIRTS, **{k: v for k, v in kw.items() if k != 'size'})
    for name, (src, idx, g) in plan.items():             # every image is a T-shirt (y=0) or a Shirt (y=1), never reused
        cls = raw[src][1][idx]
        assert set(cls[g // 2 == 0]) == {0} and set(cls[g // 2 == 1]) == {6}, name
        assert len(set(idx)) == len(idx)
        assert (sp[name].g == g).all() and (sp[name].y == g // 2).all() and (sp[name].a == g % 2).all()
    assert np.bincount(sp['train'].g).tolist() == [1900, 100, 100, 1900]
    assert np.mean(sp['train'].a == sp['train'].y) == pytest.approx(0.95)
    assert np.bincount(sp['val'].g).tolist() == [100] * 4 and np.bincount(sp['test'].g).tolist() == [200] * 4
    assert not set(plan['train'][1]) & set(plan['val'][1])
    # the default is unchanged: classes=(TOPS, FOOTWEAR) gives the same images as no classes argument
    d = make_fashion_shift(data=raw, **kw); e = make_fashion_shift(data=raw, classes=(TOPS, FOOTWEAR), **kw)
    assert (d['train'].x == e['train'].x).all() and (d['test'].g == e['test'].g).all()
    # 1000 test images per class: 600 per group x 2 groups is too many
    with pytest.raises(ValueError, match='test needs'): make_fashion_shift(data=raw, classes=SHIRTS, n_test_per_group=600)

@pytest.mark.parametrize('classes, match', [(((0,), (0, 6)), 'disjoint'), (((0,), (10,)), r'classes\[1\]'), (((), (6,)), r'classes\[0\]'),
                                            ((0, 6, 7), 'two collections'), (((0.5,), (6,)), r'classes\[0\]'), ('ab', 'classes')])
def test_bad_classes(raw, classes, match):
    with pytest.raises(ValueError, match=match): make_fashion_shift(data=raw, classes=classes)
