"""genrich.metrics against hand-computed examples, scikit-learn and scipy."""
import numpy as np
import pytest
from scipy import stats, special
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from genrich import metrics as M

@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200); p = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200)); g = rng.integers(0, 4, 200)
    return y, p, g

def test_accuracies_match_sklearn(toy):
    y, p, _ = toy
    assert M.accuracy(y, p) == pytest.approx(accuracy_score(y, p))
    assert M.class_balanced_accuracy(y, p) == pytest.approx(balanced_accuracy_score(y, p))

def test_worst_group_by_hand():
    y = [1, 1, 0, 0, 0]; p = [1, 0, 0, 0, 1]; g = ['a', 'a', 'b', 'b', 'c']
    assert M.group_accuracies(y, p, g) == {'a': 0.5, 'b': 1.0, 'c': 0.0}
    assert M.worst_group_accuracy(y, p, g) == 0.0

def test_adjusted_average_weights_by_training_groups(toy):
    y, p, g = toy
    acc = M.group_accuracies(y, p, g)
    tg = np.repeat([0, 1, 2, 3], [70, 5, 5, 20])
    assert M.adjusted_average_accuracy(y, p, g, tg) == pytest.approx(0.70*acc[0] + 0.05*acc[1] + 0.05*acc[2] + 0.20*acc[3])

@pytest.mark.parametrize('k,n,c', [(0, 5, 0.95), (4, 9, 0.995), (97, 100, 0.9), (50, 50, 0.99)])
def test_clopper_pearson_matches_scipy(k, n, c):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=c, method='exact')
    np.testing.assert_allclose(M.clopper_pearson(k, n, c), (ref.low, ref.high), atol=1e-10)

def test_effective_robustness_recovers_line():
    ids = np.linspace(0.55, 0.95, 9); oods = special.expit(1.2 * special.logit(ids) - 0.3)
    er = M.effective_robustness(ids, oods)
    assert er['slope'] == pytest.approx(1.2) and er['intercept'] == pytest.approx(-0.3)
    np.testing.assert_allclose(er['effective_robustness'], 0, atol=1e-9)

@pytest.mark.parametrize('call,msg', [
    (lambda: M.accuracy([0, 1], [0]), 'y_pred has 1 entries'),
    (lambda: M.worst_group_accuracy([0, 1], [0, 1], [0]), 'groups has 1 entries'),
    (lambda: M._check_pair([0, 5], [0, 1], classes=[0, 1]), 'not in classes_'),
    (lambda: M.clopper_pearson(3, 2), 'k=3'),
    (lambda: M.effective_robustness([0.5, 1.5], [0.5, 0.5]), 'id_fit must hold accuracies'),
    (lambda: M.normalize_group_grad_norms([1., 2.]), 'norms must be'),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg): call()
