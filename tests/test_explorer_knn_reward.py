"""k-NN image reward (Eq. 2.2) and concept score (§2.1.4) against brute-force numpy."""
import numpy as np, pytest
from genrich.explorer.knn_reward import TargetIndex, concept_score, concept_scores, score_downloads

def brute(T, Y, k):
    Tn = T/np.linalg.norm(T, axis=1, keepdims=True); Yn = Y/np.linalg.norm(Y, axis=1, keepdims=True)
    return np.sort(Yn @ Tn.T, axis=1)[:, ::-1][:, :k].mean(1)

@pytest.mark.parametrize('k', [1, 15, 64])
def test_reward_matches_brute_force(k):
    r = np.random.default_rng(k); T, Y = r.normal(size=(300, 48)), r.normal(size=(77, 48))
    np.testing.assert_allclose(TargetIndex(T).rewards(Y, k=k), brute(T, Y, k), atol=1e-5)

def test_reward_of_a_target_image_with_k1_is_one():
    T = np.random.default_rng(0).normal(size=(50, 8))
    np.testing.assert_allclose(TargetIndex(T).rewards(T[:5], k=1), 1, atol=1e-6)

def test_concept_score_is_top10_mean():
    r = np.random.default_rng(0).random(100)
    assert concept_score(r) == pytest.approx(np.sort(r)[-10:].mean())
    assert concept_score(r[:4]) == pytest.approx(r[:4].mean())
    q = np.random.default_rng(1).integers(0, 20, 2000); rr = np.random.default_rng(2).random(2000)
    np.testing.assert_allclose(concept_scores(rr, q), [np.sort(rr[q == j])[-10:].mean() for j in range(20)])

def test_score_downloads_keeps_best_half():
    r = np.random.default_rng(0); T, Y = r.normal(size=(100, 16)), r.normal(size=(30, 16))
    rw, cs, keep = score_downloads(TargetIndex(T), Y, np.repeat([0, 1, 2], 10), 3)
    assert len(keep) == 15 and set(keep) == set(np.argsort(-rw)[:15])

def test_bad_input():
    idx = TargetIndex(np.ones((10, 4)))
    with pytest.raises(ValueError, match='larger than the target set'): idx.rewards(np.ones((2, 4)), k=15)
    with pytest.raises(ValueError, match='feats are 5-d but the target features are 4-d'): idx.rewards(np.ones((2, 5)), k=3)
    with pytest.raises(ValueError, match='no images'): concept_score([])
    with pytest.raises(ValueError, match='NaN'): TargetIndex(np.full((3, 2), np.nan))
