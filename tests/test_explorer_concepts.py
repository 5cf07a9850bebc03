"""Internet Explorer vocabulary (§2.1.2, A.3.1) and embeddings (§2.1.5): counts, texts, subtrees, cache, bad input."""
import numpy as np, pytest
from genrich.explorer.concepts import (Vocabulary, load_wordnet, subtree, concept_text, embed_texts, embed_vocabulary,
                                       embedding_cache_key, parse_wordnet_nouns, N_WORDNET_CONCEPTS, MINILM_DIM, wordnet_dir)

@pytest.fixture(scope='module')
def vocab(): return load_wordnet()

def test_count_is_the_thesis_count(vocab):
    assert len(vocab) == N_WORDNET_CONCEPTS == 146_347
    assert len({(l, s) for l, s in zip(vocab.lemmas, vocab.synsets.tolist())}) == 146_347

def test_pairs_match_index_noun(vocab):
    "Independent check: the case-folded (lemma, synset) pairs are exactly the senses listed in index.noun."
    ref = set()
    for line in open(wordnet_dir()/'index.noun', encoding='utf-8'):
        if line.startswith('  '): continue
        t = line.split(); n = int(t[2]); ref.update((t[0], int(o)) for o in t[-n:])
    ours = {(l.lower().replace(' ', '_'), s) for l, s in zip(vocab.lemmas, vocab.synsets.tolist())}
    assert ours == ref and len(ref) == 146_312

def test_concept_text(vocab):
    i = vocab.lemmas.index('golden retriever')
    assert vocab[i] == 'golden retriever (retriever): an English breed having a long silky golden coat.'
    assert vocab[vocab.lemmas.index('entity')] == 'entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving).'
    assert concept_text('x', 'y', 'z.') == 'x (y): z.'

def test_subtrees(vocab):
    dog, canine = set(subtree(vocab, 'dog.n.01')), set(subtree(vocab, 'canine.n.02'))
    assert dog < canine and vocab.lemmas.index('golden retriever') in dog
    assert vocab.lemmas.index('wolf') in canine - dog
    cloth = {vocab.lemmas[i] for i in subtree(vocab, 'clothing.n.01')}
    assert {'shirt', 'sock', 'clothing'} <= cloth and 'dog' not in cloth
    # brute-force check: walking hypernyms upward from every synset reproduces the subtree
    syn = parse_wordnet_nouns(); root = vocab.names['feline.n.01']
    def under(o, seen=()):
        return o == root or any(under(h) for h in syn[o][1])
    brute = {i for i, o in enumerate(vocab.synsets.tolist()) if under(o)}
    assert brute == set(subtree(vocab, 'feline.n.01'))

def test_bad_input(vocab):
    with pytest.raises(ValueError, match='empty'): Vocabulary([], [], [])
    with pytest.raises(ValueError, match='not a WordNet noun synset'): subtree(vocab, 'doggo.n.01')
    with pytest.raises(ValueError, match='texts is empty'): embed_texts([])

def test_embedding_cache(tmp_path, vocab):
    small = vocab.subset(subtree(vocab, 'cat.n.01')[:6])
    e = embed_vocabulary(small, cache=tmp_path, block=4)
    assert e.shape == (6, MINILM_DIM) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert (tmp_path/f'{embedding_cache_key(small)}.npy').exists()
    np.testing.assert_array_equal(embed_vocabulary(small, cache=tmp_path), e)
    assert embedding_cache_key(small) != embedding_cache_key(small.subset([1, 0, 2]))

def test_missing_files_name_the_install_command(tmp_path):
    (tmp_path/'data.noun').write_text('')
    with pytest.raises(FileNotFoundError, match='apt-get install wordnet-base wordnet-sense-index'): wordnet_dir(tmp_path)


def test_wordnet_synsets_reads_every_data_file_and_rejects_others():
    from genrich.explorer.concepts import wordnet_synsets
    dog = next(s for s in wordnet_synsets('noun') if s[0] == 2084071)          # dog.n.01
    assert dog[1][0] == 'dog' and ('@', 2083346, 'n') in dog[2]                 # hypernym canine.n.02
    adj = next(wordnet_synsets('adj'))
    assert adj[1] and all(len(p) == 3 for p in adj[2])
    with pytest.raises(ValueError, match="pos='nouns'"): next(wordnet_synsets('nouns'))

def test_sample_vocabulary_is_a_seeded_stratified_subset(vocab):
    from genrich.explorer.concepts import sample_vocabulary
    strata = [('clothing.n.01', 'footwear.n.01', 'footwear.n.02', 'bag.n.01'), 'animal.n.01', 'dog.n.01']   # dog.n.01 lies inside animal.n.01
    q = sample_vocabulary(vocab, 0.15, seed=0, strata=strata)
    assert len(q) == round(0.15*len(vocab)) == 21_952
    assert np.array_equal(q, np.unique(q)) and q.min() >= 0 and q.max() < len(vocab)          # sorted positions of the full vocabulary
    assert np.array_equal(q, sample_vocabulary(vocab, 0.15, seed=0, strata=strata))
    other = sample_vocabulary(vocab, 0.15, seed=1, strata=strata)
    assert 0.05 < len(np.intersect1d(q, other))/len(q) < 0.3                                  # independent draws overlap ~15%
    sub = vocab.subset(q); assert sub.texts()[:3] == [vocab[i] for i in q[:3]]
    for g in strata:                       # the share of every stratum in the sample matches the full vocabulary (within one concept)
        m = np.zeros(len(vocab), bool)
        for r in ((g,) if isinstance(g, str) else g): m[subtree(vocab, r)] = True
        assert abs(m[q].sum() - len(q)*m.sum()/len(vocab)) <= 1, (g, m[q].sum(), len(q)*m.sum()/len(vocab))
    plain = sample_vocabulary(vocab, 0.01, seed=0)                                             # no strata: a plain random sample
    assert len(plain) == 1463 and not np.array_equal(plain, sample_vocabulary(vocab, 0.01, seed=2))

def test_sample_vocabulary_bad_input(vocab):
    from genrich.explorer.concepts import sample_vocabulary
    for bad in (0, -0.1, 1.01):
        with pytest.raises(ValueError, match=rf'fraction={bad}'): sample_vocabulary(vocab, bad)
    with pytest.raises(ValueError, match='fraction=1e-09 keeps no concept'): sample_vocabulary(vocab, 1e-9)
    with pytest.raises(TypeError, match='fraction must be a number'): sample_vocabulary(vocab, '0.1')
    with pytest.raises(ValueError, match='not a WordNet noun synset'): sample_vocabulary(vocab, 0.1, strata=['doggo.n.01'])
