"""WILDS-format loaders read small fixture directories written here; official metrics agree with hand counts."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from genrich import wilds as W
from genrich.discriminative import DiscriminativeClassifier

def test_waterbirds_hand_written_fixture(tmp_path):
    "A metadata.csv written by hand (not by the module's writer), with the group-DRO columns."
    rows = []
    for i, (y, place, split) in enumerate([(0, 0, 0), (0, 0, 0), (0, 0, 0), (1, 1, 0), (1, 1, 0), (1, 0, 0), (0, 1, 1), (1, 0, 1),
                                           (0, 0, 2), (0, 1, 2), (1, 0, 2), (1, 1, 2)]):
        f = f'{i:03d}.Some_bird/x_{i}.jpg'
        (tmp_path/f).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((20, 30, 3), 10 * i, np.uint8)).save(tmp_path/f)
        rows.append(dict(img_id=i, img_filename=f, y=y, split=split, place=place, place_filename='x'))
    pd.DataFrame(rows).to_csv(tmp_path/'metadata.csv', index=False)
    b = W.load_waterbirds(tmp_path, image_size=16)
    assert [len(b[k]) for k in ('train', 'val', 'test')] == [6, 2, 4]
    assert b['train'].g.tolist() == [0, 0, 0, 3, 3, 2]
    x = np.asarray(b['test'].x); assert x.shape == (4, 16, 16, 3) and x[0, 0, 0, 0] == 80
    pred = np.array([0, 1, 0, 1])                                  # wrong on (landbird, water) and (waterbird, land)
    s = b.score(pred)
    assert s['accuracy'] == 0.5 and s['worst_group_accuracy'] == 0.0
    # adjusted average: train group shares 3/6, 0, 1/6, 2/6 weight test groups (acc 1, 0, 0, 1)
    assert s['adjusted_average_accuracy'] == pytest.approx(3 / 6 + 2 / 6)

@pytest.mark.parametrize('name', list(W.WILDS_LOADERS))
def test_each_loader_reads_its_fixture(tmp_path, name):
    getattr(W, f'write_{name}_fixture')(tmp_path)
    b = W.load_wilds(name, tmp_path, **({} if name == 'civilcomments' else {'image_size': 8}))
    assert {'train', 'val', 'test'} <= set(b) and all(len(s) > 0 for s in b.values())
    for s in b.values(): assert len(s.x) == len(s.y) == len(s.g)
    sc = b.score(b['test'].y)                                      # perfect predictions
    assert sc[b.metric] == 1.0 and sc['accuracy'] == 1.0

@pytest.mark.parametrize('name', list(W.WILDS_LOADERS))
def test_root_without_metadata_is_a_value_error(tmp_path, name):
    with pytest.raises(ValueError, match='has no'): W.load_wilds(name, tmp_path)

def test_camelyon_and_fmow_splits(tmp_path):
    cm = W.load_camelyon17(W.write_camelyon17_fixture(tmp_path/'c'), image_size=8)
    assert set(cm['train'].g) <= {0, 3, 4} and set(cm['ood_val'].g) == {1} and set(cm['test'].g) == {2}
    fm = W.load_fmow(W.write_fmow_fixture(tmp_path/'f', n=60), image_size=8)
    md = pd.read_csv(tmp_path/'f'/'rgb_metadata.csv')
    yr = pd.to_datetime(md.timestamp).dt.year
    assert len(fm['test']) == int(((md.split == 'test') & (yr >= 2016)).sum())
    assert len(fm['train']) == int(((md.split == 'train') & (yr < 2013)).sum())
    assert fm.categories == sorted(md.category[md.split != 'seq'].unique())

def test_civilcomments_worst_group_by_hand(tmp_path):
    df = pd.DataFrame({'comment_text': ['a', 'b', 'c', 'd', 'e', 'f'], 'split': ['test'] * 6, 'toxicity': [0.9, 0.1, 0.6, 0.2, 0.7, 0.0],
                       **{c: [0.0] * 6 for c in W.CIVIL_IDENTITIES}})
    df.loc[[0, 1], 'muslim'] = 1.0; df.loc[[2, 3], 'black'] = 0.5
    for s in ('train', 'val'): df = pd.concat([df, df.head(2).assign(split=s)])
    df.to_csv(tmp_path/'all_data_with_identities.csv', index=False)
    b = W.load_civilcomments(tmp_path)
    pred = np.array([1, 0, 0, 0, 1, 0])                          # wrong only on (black, toxic)
    s = b.score(pred)
    assert s['worst_identity_group_accuracy'] == 0.0 and s['group_accuracies']['black, y=1'] == 0.0
    assert s['group_accuracies']['muslim, y=1'] == 1.0 and len(s['group_accuracies']) == 4
    assert b['test'].g.tolist() == [3, 2, 3, 2, 1, 0]

def test_a_classifier_trains_on_lazy_images(tmp_path):
    b = W.load_waterbirds(W.write_waterbirds_fixture(tmp_path, n_per_group_split=3), image_size=8)
    clf = DiscriminativeClassifier('erm', epochs=1, width=16, random_state=0).fit(b['train'], b['val'])
    assert clf.arch_ == 'resnet' and len(clf.predict(b['test'].x)) == len(b['test'])
