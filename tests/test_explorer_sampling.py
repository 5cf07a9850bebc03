"""Concept sampling (§2.1.7, Eq. 2.3, Eq. A.1) and label-set pruning (§2.2.2): exact tier masses, SMR ratio, brute-force checks."""
import numpy as np, pytest
from genrich.explorer.sampling import (scaled_softmax, smr_temperature, tier_probs, concept_distribution, clip_tiers,
                                       sample_concepts, label_similarity, prune_vocabulary, sample_queries, fig23_record)

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_tier_masses_exact_on_full_vocabulary(seed):
    r = np.random.default_rng(seed); s = r.gamma(2.0, size=146_347)
    p = concept_distribution(s); o = np.argsort(-s, kind='stable')
    assert p.sum() == pytest.approx(1, abs=1e-12)
    for (a, b), m in zip([(0, 250), (250, 1000), (1000, 146_347)], [0.8, 0.1, 0.1]):
        assert p[o[a:b]].sum() == pytest.approx(m, abs=1e-12)
    # within a tier, ratios are those of the plain softmax
    q = scaled_softmax(s); np.testing.assert_allclose(p[o[1000:]]/p[o[1000]], q[o[1000:]]/q[o[1000]], rtol=1e-10)

def test_tier_probs_matches_loop_formula():
    r = np.random.default_rng(3); p = np.sort(r.dirichlet(np.ones(50)))[::-1]
    b, m = (0, 5, 20, 50), (0.5, 0.3, 0.2)
    ref = np.array([m[j]*p[i]/p[b[j]:b[j+1]].sum() for j in range(3) for i in range(b[j], b[j+1])])
    np.testing.assert_allclose(tier_probs(p, b, m), ref, rtol=1e-14)

def test_smr_sets_likelihood_ratio():
    s = np.random.default_rng(0).normal(size=777)
    for smr in (0.5, 3, 10):
        p = scaled_softmax(s, smr); assert p.max()/p.min() == pytest.approx(np.exp(smr), rel=1e-9)
    assert smr_temperature([1., 4.], 3) == pytest.approx(1.0)

def test_sampling_frequency_and_seed():
    s = np.random.default_rng(0).normal(size=3000); p = concept_distribution(s)
    d = sample_concepts(p, 50_000, np.random.default_rng(0))
    assert np.isin(d, np.argsort(-s)[:250]).mean() == pytest.approx(0.8, abs=0.01)
    np.testing.assert_array_equal(d, sample_concepts(p, 50_000, np.random.default_rng(0)))

def test_fig23_numbers():
    s = np.random.default_rng(0).normal(size=146_347)
    rec = fig23_record(s); assert rec['mass_top_tiered'] == pytest.approx(0.9, abs=1e-12) and rec['mass_top_softmax'] < 0.05

def test_pruning_matches_brute_force():
    r = np.random.default_rng(0); C = r.normal(size=(2000, 12)); L = r.normal(size=(10, 12))
    Cn = C/np.linalg.norm(C, axis=1, keepdims=True); Ln = L/np.linalg.norm(L, axis=1, keepdims=True)
    ref = np.sort(Cn @ Ln.T, axis=1)[:, -3:].mean(1)
    np.testing.assert_allclose(label_similarity(C, L, chunk=333), ref, atol=1e-5)
    keep = prune_vocabulary(C, L, frac=0.1); assert len(keep) == 200 and set(keep) == set(np.argsort(-ref)[:200])

def test_label_queries():
    p = np.full(100, 0.01); isl, idx = sample_queries(p, 4000, np.random.default_rng(0), n_labels=7)
    assert abs(isl.mean() - 0.5) < 0.03 and idx[isl].max() < 7 and idx[~isl].max() < 100

def test_bad_input():
    p = np.sort(np.random.default_rng(0).dirichlet(np.ones(2000)))[::-1]
    with pytest.raises(ValueError, match='sum to 1'): tier_probs(p, (0, 250, 1000, None), (0.8, 0.1, 0.05))
    with pytest.raises(ValueError, match='decreasing'): tier_probs(p[::-1])
    with pytest.raises(ValueError, match='non-empty'): concept_distribution([])
    with pytest.raises(ValueError, match='is outside'): label_similarity(np.ones((5, 3)), np.ones((4, 3)), k=5)
    with pytest.raises(ValueError, match='3-d but label_emb is 4-d'): prune_vocabulary(np.ones((5, 3)), np.ones((4, 4)))
    with pytest.raises(ValueError, match='NaN'): concept_distribution([0., np.nan])
