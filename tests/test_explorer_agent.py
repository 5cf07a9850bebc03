"""Internet Explorer agent (Algorithm 1, App. A.3.5) on a tiny caption-indexed web built in the test."""
from dataclasses import asdict
import numpy as np, pytest, torch
from genrich.explorer.agent import (InternetExplorer, AgentConfig, toy_web, toy_shapes, TOY_COLOURS, knn_accuracy,
                                    image_rewards, decode_png)
from genrich.explorer.knn_reward import TargetIndex
from genrich.explorer.moco import MoCo, extract_features
from genrich.explorer.search import hashed_bow_embed

torch.set_num_threads(1)

@pytest.fixture(scope='module')
def web(tmp_path_factory):
    engine, concepts = toy_web(tmp_path_factory.mktemp('web'), per_caption=10)
    r = np.random.default_rng(0)
    target = np.concatenate([toy_shapes(16, 'circle', TOY_COLOURS['red'], rng=r), toy_shapes(16, 'circle', TOY_COLOURS['orange'], rng=r)])
    ev = [np.concatenate([toy_shapes(8, s, TOY_COLOURS['blue'], rng=r) for s in ('circle', 'square', 'bar')]) for _ in range(2)]
    ys = np.repeat(np.arange(3), 8)
    return engine, concepts, hashed_bow_embed(concepts, 32), target, (ev[0], ys, ev[1], ys)

def model(): torch.manual_seed(0); return MoCo(widths=(8, 16), blocks=(1, 1), proj_hidden=16, dim=8, pred_hidden=16, tau=0.2, momentum=0.99)
CFG = AgentConfig(queries=4, results=10, min_results=3, k=5, epochs=1, batch_size=32, optimizer='adamw', lr=2e-3, bounds=(0, 3, None), masses=(0.8, 0.2))

def agent(web, cfg=CFG, **kw):
    engine, concepts, emb, target, ev = web
    return InternetExplorer(engine, target, concepts, emb, model=model(), config=cfg, eval_data=ev, **kw)

def strip(h): return [{k: v for k, v in r.items() if k != 'timings'} for r in h]

def test_kill_and_resume_equals_uninterrupted(web, tmp_path):
    full = agent(web); full.run(3)
    a = agent(web, checkpoint=tmp_path/'ck.pt'); a.run(3, until=1); assert a.iteration == 1
    b = agent(web, checkpoint=tmp_path/'ck.pt'); assert b.iteration == 1 and len(b.history) == 1
    b.run(3)
    assert strip(b.history) == strip(full.history)
    assert np.array_equal(b.buffer, full.buffer) and np.array_equal(b.buffer_r, full.buffer_r) and np.array_equal(b.p, full.p)
    assert b.obs_idx == full.obs_idx and b.obs_r == full.obs_r
    assert all(torch.equal(x, y) for x, y in zip(b.model.state_dict().values(), full.model.state_dict().values()))

def test_exception_mid_iteration_loses_nothing(web, tmp_path):
    full = agent(web); full.run(2)
    a = agent(web, checkpoint=tmp_path/'ck.pt'); a.run(1)
    boom = agent(web, checkpoint=tmp_path/'ck.pt')
    def fail(*_, **__): raise RuntimeError('killed')
    boom.train = fail
    with pytest.raises(RuntimeError): boom.run(2)        # dies inside iteration 2, after sampling and searching
    c = agent(web, checkpoint=tmp_path/'ck.pt'); assert c.iteration == 1; c.run(2)
    assert strip(c.history) == strip(full.history)

def test_buffer_keeps_top_half_and_scores_are_top10_means(web):
    a = agent(web, AgentConfig(**{**asdict(CFG), 'top': 2})); row = a.step()
    n = row['n_downloaded']; assert len(a.buffer) == int(np.ceil(n/2))
    assert np.all(np.diff(a.buffer_r) <= 0)                                       # kept best first
    assert len(a.obs_r) == row['n_queries_used'] and 0 <= row['knn_acc'] <= 1 and 0 <= row['probe_acc'] <= 1
    assert decode_png(row['thumbs']).shape[0] == 16

def test_reward_kinds(web):
    engine, concepts, emb, target, ev = web
    m = model(); x = ev[0]
    r15 = image_rewards(m, x, target, kind='knn', k=15)
    ti = TargetIndex(extract_features(m, target)); np.testing.assert_allclose(r15, ti.rewards(extract_features(m, x), 15))
    r1 = image_rewards(m, x, target, kind='1nn'); assert np.all(r1 >= r15 - 1e-6)      # the nearest neighbour is at least the 15-NN mean
    rm = image_rewards(m, x, target, kind='moco', seed=3); assert rm.shape == (len(x),) and np.all(rm > 0)
    np.testing.assert_array_equal(rm, image_rewards(m, x, target, kind='moco', seed=3))

def test_modes(web):
    labels = ['circle', 'square', 'bar']; lemb = hashed_bow_embed(labels, 32)
    for mode, share in (('random', 0.0), ('labels', 1.0)):
        a = agent(web, AgentConfig(**{**asdict(CFG), 'mode': mode}), labels=labels, label_emb=lemb)
        assert a.step()['label_share'] == share
    a = agent(web, AgentConfig(**{**asdict(CFG), 'mode': 'ours++', 'prune_frac': 0.5, 'queries': 8}), labels=labels, label_emb=lemb)
    assert len(a.active) == 6; a.step()
    assert a.p.shape == (6,) and abs(a.p.sum() - 1) < 1e-9

def test_bad_input(web):
    engine, concepts, emb, target, ev = web
    class Empty:
        def search(self, q, k): return []
    with pytest.raises(ValueError, match='no usable results'): InternetExplorer(Empty(), target, concepts, emb, model=model(), config=CFG).step()
    with pytest.raises(ValueError, match='larger than the target'): InternetExplorer(engine, target[:2], concepts, emb, model=model(), config=CFG)
    with pytest.raises(ValueError, match='vocab is empty'): InternetExplorer(engine, target, [], emb[:0], model=model(), config=CFG)
    with pytest.raises(ValueError, match='concept_emb'): InternetExplorer(engine, target, concepts, emb[:3], model=model(), config=CFG)
    with pytest.raises(ValueError, match='uint8'): InternetExplorer(engine, target.astype(float), concepts, emb, model=model(), config=CFG)
    with pytest.raises(ValueError, match='label_emb'):
        InternetExplorer(engine, target, concepts, emb, model=model(), config=AgentConfig(**{**asdict(CFG), 'mode': 'ours++'}), labels=['circle'])
    with pytest.raises(ValueError, match='reward'): AgentConfig(reward='clip').check()
    with pytest.raises(TypeError, match='engine'): InternetExplorer(object(), target, concepts, emb, model=model(), config=CFG)

def test_knn_accuracy_matches_sklearn():
    from sklearn.neighbors import KNeighborsClassifier
    r = np.random.default_rng(1); A, B = r.normal(size=(120, 6)), r.normal(size=(40, 6)); ya, yb = r.integers(0, 2, 120), r.integers(0, 2, 40)
    ref = KNeighborsClassifier(7, metric='cosine', algorithm='brute').fit(A, ya).predict(B)   # odd k, 2 classes: no ties
    assert knn_accuracy(A, ya, B, yb, 7) == float((ref == yb).mean())

def test_centred_reward_brute_force(web):
    engine, concepts, emb, target, ev = web
    m = model(); x = ev[0]
    ft, fc = extract_features(m, target), extract_features(m, x)
    mu = ft.mean(0); A = (ft - mu)/np.linalg.norm(ft - mu, axis=1, keepdims=True); B = (fc - mu)/np.linalg.norm(fc - mu, axis=1, keepdims=True)
    ref = np.sort(B @ A.T, axis=1)[:, ::-1][:, :5].mean(1)
    np.testing.assert_allclose(image_rewards(m, x, target, kind='knn', k=5, center=True), ref, atol=1e-5)
    a = agent(web, AgentConfig(**{**asdict(CFG), 'center_reward': True})); row = a.step()
    assert row['concept_score_std'] >= 0 and np.isfinite(row['mean_reward'])

def test_descriptors_in_queries_concepts_in_gp(web, monkeypatch):
    from genrich.explorer import agent as agent_mod
    from genrich.explorer.descriptors import wordnet_visual_adjectives
    engine, concepts, emb, target, ev = web
    adjs = set(wordnet_visual_adjectives())
    cfg = AgentConfig(**{**asdict(CFG), 'descriptors': 'wordnet'})
    seen = []
    real_fit = agent_mod.ConceptGPR.fit
    def spy(self, X, y): seen.append((np.array(X), np.array(y))); return real_fit(self, X, y)
    monkeypatch.setattr(agent_mod.ConceptGPR, 'fit', spy)
    a = agent(web, cfg); _, idx0, _ = agent(web).sample()               # the same concepts without descriptors
    row = a.step()
    qs = row['queries']; assert len(qs) == cfg.queries
    for q, i in zip(qs, idx0):
        c = concepts[a.active[i]]
        assert q.endswith(' ' + c) and q[:-len(c) - 1] in adjs, (q, c)     # "descriptor concept"
    X, y = seen[-1]
    np.testing.assert_array_equal(X, emb[a.active][a.obs_idx])         # the GP sees the concepts' embeddings ...
    np.testing.assert_array_equal(y, a.obs_r)                          # ... and their scores
    assert set(a.obs_idx) <= set(idx0.tolist())

def test_kill_and_resume_with_descriptors(web, tmp_path):
    cfg = AgentConfig(**{**asdict(CFG), 'descriptors': 'wordnet'})
    full = agent(web, cfg); full.run(3)
    a = agent(web, cfg, checkpoint=tmp_path/'ck.pt'); a.run(3, until=1)
    b = agent(web, cfg, checkpoint=tmp_path/'ck.pt'); assert b.iteration == 1; b.run(3)
    assert strip(b.history) == strip(full.history) and b.obs_idx == full.obs_idx
    assert [r['queries'] for r in b.history] == [r['queries'] for r in full.history]
    assert not all(q in set(web[1]) for r in full.history for q in r['queries'])
    c = agent(web); c.run(1)
    assert all(q in set(web[1]) for q in c.history[0]['queries'])     # without descriptors: the bare concepts

def test_descriptor_bad_input(web):
    engine, concepts, emb, target, ev = web
    with pytest.raises(ValueError, match='descriptors'): AgentConfig(descriptors='').check()
    with pytest.raises(ValueError, match='causal-LM folder'): agent(web, AgentConfig(**{**asdict(CFG), 'descriptors': '/nonexistent/lm'}))
    with pytest.raises(TypeError, match='descriptor_fn'): agent(web, descriptor_fn='big')

def test_gp_updates_between_refits_resume_exactly(web, tmp_path):
    "gp_refit_every=3: iterations 2-3 add observations with ConceptGPR.update; a kill after iteration 2 resumes to the same run."
    cfg = AgentConfig(**{**asdict(CFG), 'gp_refit_every': 3})
    full = agent(web, cfg); full.run(5)
    assert len(full.gp_segs) == 2 and full.gp_segs[-1] == len(full.obs_idx)          # refit at iteration 4, one update at 5
    assert full.gp.X_train_.shape[0] == len(full.obs_idx) and full.gp._segs[1] == full.gp_segs[0]
    a = agent(web, cfg, checkpoint=tmp_path/'ck.pt'); a.run(5, until=2)
    b = agent(web, cfg, checkpoint=tmp_path/'ck.pt'); assert b.gp is None and b.gp_segs == a.gp_segs and len(b.gp_segs) == 2
    b.run(5)
    assert strip(b.history) == strip(full.history) and np.array_equal(b.p, full.p) and np.array_equal(b.scores, full.scores)
    with pytest.raises(ValueError, match='gp_refit_every'): AgentConfig(gp_refit_every=0).check()
