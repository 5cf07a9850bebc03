"""Internet Explorer experiments: records, figures and the claims tables (small settings; the quick `reproduce` runs in the notebook's slow cell)."""
import numpy as np, pytest
from genrich.explorer.experiments import sampling_record, discovery_record, plot_explorer_fig23, plot_explorer_discovery, _claims
from genrich.explorer.theory import lemma_record
from genrich.cli import CHAPTERS

def test_registered():
    assert CHAPTERS['internet_explorer'][0] == 'genrich.explorer.experiments:reproduce'

def test_records_and_claims():
    s = sampling_record(0); assert abs(s['mass_top_tiered'] - 0.9) < 1e-12
    d = discovery_record(n_other=300, iters=3, m=12, seed=1)
    assert d['n_relevant'] == d['category_sizes'][1] + d['category_sizes'][2]
    assert len(d['gpr']['found']) == 3 and d['gpr']['found'] == sorted(d['gpr']['found'])
    lem = lemma_record(n=2000, c=2, sizes=(1, 5), trials=100)
    nb = dict(vocabulary=dict(n_concepts=146_347, category_sizes=d['category_sizes']), sampling=s, lemma=lem, discovery=d)
    rows = _claims(nb); assert len(rows) == 6 and rows[0][2] == 'yes'
    assert all('|' not in c + m for c, m, _ in rows)          # table cells must not break the markdown table
    plot_explorer_fig23(s); plot_explorer_discovery(d)

def _fake_target(gain):
    it = 3; up = lambda a, d: [a + d*i for i in range(it + 1)]
    runs = {m: dict(knn_acc=up(0.5, g), probe_acc=up(0.6, g), category_mass=dict(relevant=[0.01, 0.05, mass]), category_score=dict(relevant=[0.5]*it))
            for m, g, mass in (('random', 0.0, 0.01), ('ours', gain, 0.2), ('labels', 0.0, 0.0), ('ours++', 2*gain, 0.4),
                               ('ours++ (1nn)', 0.0, 0.1), ('ours++ (moco)', 0.0, 0.1))}
    return dict(runs=runs, initial=dict(knn_acc=0.5, probe_acc=0.6), n_relevant=100, n_concepts=10_000, iterations=it, n_eval=1000)

def test_agent_claims_follow_the_numbers():
    from genrich.explorer.experiments import _agent_claims
    good, bad = _agent_claims(dict(t=_fake_target(0.05))), _agent_claims(dict(t=_fake_target(-0.05)))
    assert len(good) == 5 and all(h == 'yes' for *_, h in good), good
    assert [h for *_, h in bad][:3] == ['no', 'no', 'no']
    flat = _agent_claims(dict(t=_fake_target(0.0005)))
    assert flat[0][2] == 'no (within noise)'

def test_prepare_caches_bad_threads():
    from genrich.core import Scale
    from genrich.explorer.experiments import prepare_caches
    with pytest.raises(ValueError, match='threads'): prepare_caches(Scale('quick'), threads=0)

def test_quick_vocabulary_is_a_stratified_sample(tmp_path, monkeypatch):
    "Quick scale searches one seeded sample of WordNet, stratified by both targets' categories; only the sample is embedded."
    from genrich.core import Scale
    from genrich.explorer.concepts import load_wordnet, sample_vocabulary, subtree, embed_texts, MINILM_DIM
    from genrich.explorer.experiments import wordnet_concepts, agent_vocabulary, FASHION_CATEGORIES, WEB_CATEGORY_ROOTS, QUICK_VOCAB_FRACTION
    assert agent_vocabulary(Scale('full'))['fraction'] is None
    voc = agent_vocabulary(Scale('quick')); assert voc['fraction'] == QUICK_VOCAB_FRACTION
    vocab = load_wordnet(); q = sample_vocabulary(vocab, voc['fraction'], seed=voc['seed'], strata=voc['strata'])
    for roots in (FASHION_CATEGORIES, WEB_CATEGORY_ROOTS['animals']):     # each target's category keeps its share (within one concept)
        m = np.zeros(len(vocab), bool)
        for r in roots: m[subtree(vocab, r)] = True
        assert abs(m[q].sum() - len(q)*m.mean()) <= 1
    monkeypatch.setenv('GENRICH_CACHE', str(tmp_path))
    small = dict(voc, fraction=0.002)                                     # 293 concepts: seconds to embed
    texts, emb, mask = wordnet_concepts(FASHION_CATEGORIES, **small)
    idx = sample_vocabulary(vocab, 0.002, seed=0, strata=voc['strata'])
    assert texts == [vocab.lemmas[i] for i in idx] and len(texts) == 293
    full_mask = np.zeros(len(vocab), bool)
    for r in FASHION_CATEGORIES: full_mask[subtree(vocab, r)] = True
    assert np.array_equal(mask, full_mask[idx]) and mask.sum() >= 1
    assert emb.shape == (293, MINILM_DIM)
    np.testing.assert_allclose(emb, embed_texts(vocab.subset(idx).texts()), atol=1e-5)      # the sample's own texts, embedded directly
    assert [f.name for f in (tmp_path/'embeddings').glob('*.npy')] and all(np.load(f).shape == (293, MINILM_DIM) for f in (tmp_path/'embeddings').glob('*.npy'))
    t2, e2, m2 = wordnet_concepts(FASHION_CATEGORIES, **small)
    assert t2 == texts and np.array_equal(e2, emb) and np.array_equal(m2, mask)             # same seed: same sample, read from the cache
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match=rf'fraction={bad}'): wordnet_concepts(FASHION_CATEGORIES, fraction=bad)

def test_prepare_caches_bad_scale():
    from genrich.explorer.experiments import prepare_caches
    with pytest.raises(ValueError, match="'tiny'"): prepare_caches('tiny')
    with pytest.raises(TypeError, match='scale must be'): prepare_caches(3)
