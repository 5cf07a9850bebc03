"""The VADER text subpopulation-shift benchmark (real sentences; fetched by `make data`)."""
import numpy as np
import pandas as pd
import pytest
from genrich import sentiment_shift as S

try: DF = S.load_vader()
except FileNotFoundError: DF = None
needs_data = pytest.mark.skipif(DF is None, reason='VADER sentences not installed; run `make data`')

@needs_data
def test_counts_and_ranges():
    assert len(DF) == 23703
    assert DF.score.between(-4, 4).all()

@needs_data
@pytest.mark.parametrize('rho', [0.5, 0.9, 0.95])
def test_shift_structure(rho):
    sp = S.make_sentiment_shift(DF, rho=rho, n_train=2000, n_val=400, n_test_per_group=200, seed=1)
    tr, va, te = sp['train'], sp['val'], sp['test']
    assert np.mean(tr.a == tr.y) == pytest.approx(rho, abs=0.01)
    assert np.mean(va.a == va.y) == pytest.approx(rho, abs=0.02)
    assert np.bincount(te.g, minlength=4).tolist() == [200] * 4
    assert not (set(tr.x) & set(te.x)) and not (set(va.x) & set(te.x))
    np.testing.assert_array_equal(tr.g, 2 * tr.y + tr.a)

@needs_data
def test_labels_follow_score_sign():
    sp = S.make_sentiment_shift(DF, n_train=400, n_val=100, n_test_per_group=50, seed=2)
    score = dict(zip(DF.text, DF.score))
    for t, y in zip(sp['test'].x[:100], sp['test'].y[:100]):
        assert (score[t] > 0) == bool(y) and abs(score[t]) >= 0.5

@pytest.mark.parametrize('kw,msg', [(dict(rho=-0.1), 'rho=-0.1'), (dict(n_train=0), 'n_train=0'), (dict(neutral=5), 'neutral=5')])
def test_bad_input(kw, msg):
    with pytest.raises(ValueError, match=msg): S.make_sentiment_shift(pd.DataFrame({'score': [], 'text': [], 'source': []}), **kw)

@needs_data
def test_too_many_requested():
    with pytest.raises(ValueError, match='lower n_train'): S.make_sentiment_shift(DF, n_test_per_group=10**5)

def test_missing_data_names_command(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'): S.load_vader(tmp_path/'nope')
    (tmp_path/'v').mkdir()
    with pytest.raises(FileNotFoundError, match='make data'): S.load_vader(tmp_path/'v')
