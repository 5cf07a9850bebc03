"""The offline web (genrich.explorer.web): SVG metadata, rendering, the resumable cache, the manifest and the engine."""
import csv, logging, os
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import shutil
from genrich.explorer.web import (image_hashes, svg_metadata, svg_caption, render_svg, render_emoji, repair_svg, openclipart_items, emoji_items,
                                  build_offline_web, load_manifest, offline_web, category_images, web_dir, web_explorer,
                                  OPENCLIPART, NOTO_EMOJI, MANIFEST_COLS)
from genrich.explorer.search import hashed_bow_embed, CaptionIndexEngine, SearchResult
from genrich.core import find_data

NS = ('xmlns="http://www.w3.org/2000/svg" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
      'xmlns:cc="http://web.resource.org/cc/" xmlns:dc="http://purl.org/dc/elements/1.1/"')

def svg(title, body, keywords=()):
    kw = ''.join(f'<rdf:li>{k}</rdf:li>' for k in keywords)
    return (f'<svg {NS} width="20" height="20"><metadata><rdf:RDF><cc:Work rdf:about=""><dc:title>{title}</dc:title>'
            f'<dc:subject><rdf:Bag>{kw}</rdf:Bag></dc:subject><dc:creator><cc:Agent><dc:title>An Author</dc:title>'
            f'</cc:Agent></dc:creator></cc:Work></rdf:RDF></metadata>{body}</svg>').encode()

@pytest.fixture
def web_root(tmp_path):
    r = tmp_path/'svg'
    for d in ('animals/birds', 'animals/mammals', 'food', 'transportation'): (r/d).mkdir(parents=True)
    (r/'animals/birds/red_bird_01.svg').write_bytes(svg('red bird', '<circle cx="10" cy="10" r="10" fill="#ff0000"/>', ['bird', 'animal']))
    (r/'animals/mammals/green_dog_01.svg').write_bytes(svg('green dog', '<rect width="20" height="20" fill="#00ff00"/>', ['dog', 'pet']))
    (r/'food/blue_cake_01.svg').write_bytes(svg('blue cake', '<rect width="20" height="20" fill="#0000ff"/>', ['dessert']))
    (r/'transportation/black_car_01.svg').write_bytes(svg('black car', '<rect width="20" height="10" fill="#000000"/>', ['vehicle']))
    (r/'food/broken_01.svg').write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><rect width=')
    (r/'food/empty_01.svg').write_bytes(svg('nothing', ''))
    (r/'animals/cake_link.svg').symlink_to('../food/blue_cake_01.svg')      # a cake filed under animals too
    return r

def build(web_root, tmp_path, **kw):
    return build_offline_web(tmp_path/'cache', size=16, sources='openclipart', openclipart_root=web_root, **kw)

def test_svg_metadata_and_caption():
    t, k = svg_metadata(svg('red &amp; bird', '', ['bird', 'red', 'animal']))
    assert (t, k) == ('red & bird', ['bird', 'red', 'animal'])
    assert svg_caption(t, k) == 'red & bird (animal)'           # keywords already in the title are left out
    assert svg_metadata(b'<svg/>') == ('', [])

def test_render_pixels():
    a = np.asarray(render_svg(svg('x', '<rect width="20" height="10" fill="#0000ff"/><rect y="10" width="20" height="10" fill="#ff0000"/>'), 32))
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert a[4, 16].tolist() == [0, 0, 255] and a[28, 16].tolist() == [255, 0, 0]
    wide = np.asarray(render_svg(f'<svg {NS} width="40" height="10"><rect width="40" height="10" fill="#000"/></svg>'.encode(), 32))
    assert wide[16, 16].tolist() == [0, 0, 0] and wide[2, 16].tolist() == [255, 255, 255]   # letterboxed, aspect kept
    with pytest.raises(Exception): render_svg(b'<svg><rect', 32)
    with pytest.raises(ValueError): render_svg(svg('x', ''), 32)                            # nothing drawn
    with pytest.raises(ValueError): render_svg(svg('x', '<rect/>'), 4)

def test_small_drawing_is_cropped_and_sharp():
    a = np.asarray(render_svg(f'<svg {NS} width="1000" height="1000"><rect x="850" y="850" width="100" height="100" fill="#00ff00"/></svg>'.encode(), 32))
    err = np.abs(a.astype(int) - [0, 255, 0]).max(-1)
    assert err[2:-2, 2:-2].max() <= 8                     # a small square in a corner of a big page fills the frame...
    assert err.max() < 80                                 # ...up to its antialiased edge

def test_repair_entities_and_percent_opacity():
    svg_ = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ns "http://www.w3.org/2000/svg">]>'
            b'<svg xmlns="&ns;" width="10" height="10"><rect width="10" height="10" style="fill:#0000ff;fill-opacity:50%"/></svg>')
    assert b'fill-opacity:0.5' in repair_svg(svg_) and b'&ns;' not in repair_svg(svg_)
    assert np.abs(np.asarray(render_svg(svg_, 16))[8, 8].astype(int) - [127, 127, 255]).max() <= 1
    evil = b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text y="5">&x;</text></svg>'
    with pytest.raises(Exception): render_svg(evil, 16)     # external entities are never read

def test_build_skips_bad_files_and_logs(web_root, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger='genrich.explorer.web'): m = build(web_root, tmp_path)
    df = load_manifest(m)
    assert sorted(df.id) == ['openclipart/animals/birds/red_bird_01', 'openclipart/animals/mammals/green_dog_01',
                             'openclipart/food/blue_cake_01', 'openclipart/transportation/black_car_01']
    assert 'broken_01' in caplog.text and 'empty_01' in caplog.text
    with open(m.parent/'failed.csv') as f: assert {r['id'] for r in csv.DictReader(f)} == {'openclipart/food/broken_01', 'openclipart/food/empty_01'}
    px = {i: np.asarray(Image.open(p)) for i, p in zip(df.id, df.image_path)}
    assert px['openclipart/food/blue_cake_01'][8, 8].tolist() == [0, 0, 255]
    assert px['openclipart/animals/mammals/green_dog_01'][8, 8].tolist() == [0, 255, 0]
    assert px['openclipart/animals/birds/red_bird_01'][0, 0].tolist() == [255, 255, 255]   # circle's corner: white background

def test_manifest_round_trip_and_resume(web_root, tmp_path):
    m = build(web_root, tmp_path)
    df = load_manifest(m)
    assert list(df.columns) == list(MANIFEST_COLS)
    row = df.set_index('id').loc['openclipart/food/blue_cake_01']
    assert (row.caption, row.source, row.category, row.subcategory, row.also_in) == ('blue cake (dessert)', 'openclipart', 'food', '', 'animals')
    assert df.set_index('id').loc['openclipart/animals/birds/red_bird_01', 'subcategory'] == 'birds'
    imgs, caps, ids = CaptionIndexEngine.from_collection(m, embed_fn=hashed_bow_embed).images, None, None
    assert sorted(imgs) == sorted(df.image_path)                  # the manifest is a valid search collection
    mt = {p: os.path.getmtime(p) for p in df.image_path}
    os.remove(df.image_path[0])                                   # simulate a run killed before this file
    df2 = load_manifest(build(web_root, tmp_path))
    assert df2.equals(df)
    assert all(os.path.getmtime(p) == t for p, t in mt.items() if p != df.image_path[0])   # the rest not re-rendered

def test_render_only_some_categories(web_root, tmp_path):
    m = build(web_root, tmp_path, render_categories=['transportation'])
    assert m.name == 'manifest-openclipart-cats-transportation.csv'
    assert list(load_manifest(m).id) == ['openclipart/transportation/black_car_01']
    assert not (m.parent/'openclipart/animals').exists()                     # nothing else was rendered
    eng = offline_web(render_categories=['animals'], embed_fn=hashed_bow_embed, sources='openclipart',
                      openclipart_root=web_root, cache=tmp_path/'cache', size=16)
    assert sorted(eng.ids) == ['openclipart/animals/birds/red_bird_01', 'openclipart/animals/mammals/green_dog_01',
                               'openclipart/food/blue_cake_01']              # the cake is filed under animals by a link

def test_engine_search_and_held_out_category(web_root, tmp_path):
    kw = dict(sources='openclipart', openclipart_root=web_root, cache=tmp_path/'cache', size=16)
    eng = offline_web(embed_fn=hashed_bow_embed, **kw)
    hits = eng.search('green dog', 2)
    assert isinstance(hits[0], SearchResult) and hits[0].caption == 'green dog (pet)'
    assert np.asarray(Image.open(hits[0].image))[8, 8].tolist() == [0, 255, 0]
    held = offline_web(exclude_categories=['animals'], embed_fn=hashed_bow_embed, **kw)
    assert held.ids == ['openclipart/transportation/black_car_01']          # the linked cake is held out too
    x, y, ids = category_images('animals', **kw)
    assert x.shape == (3, 3, 16, 16) and x.dtype.is_floating_point and 0 <= float(x.min()) and float(x.max()) <= 1
    assert dict(zip(ids, y)) == {'openclipart/animals/birds/red_bird_01': 'birds', 'openclipart/animals/mammals/green_dog_01': 'mammals',
                                 'openclipart/food/blue_cake_01': 'other'}
    assert not set(ids) & set(held.ids) and set(ids) | set(held.ids) == set(eng.ids)
    x2, y2, _ = category_images('animals', min_count=2, **kw)
    assert set(y2) == {'other'}                                             # subfolders with < 2 images join 'other'
    df = load_manifest(web_dir(16, tmp_path/'cache')/'manifest-openclipart.csv')
    h = dict(zip(df.id, image_hashes(df, tmp_path/'cache').tolist()))
    assert h['openclipart/animals/mammals/green_dog_01'] == h['openclipart/transportation/black_car_01']   # flat images: same dHash...
    # ...yet the car stayed in `held` above: a hash collision is confirmed pixel by pixel before an image counts as a copy
    shutil.copy(web_root/'animals/mammals/green_dog_01.svg', web_root/'transportation/green_bus_01.svg')   # a true copy filed elsewhere
    assert offline_web(exclude_categories=['animals'], embed_fn=hashed_bow_embed, **kw).ids == ['openclipart/transportation/black_car_01']
    assert len(offline_web(exclude_categories=['animals'], copy_threshold=None, embed_fn=hashed_bow_embed, **kw)) == 2
    (web_root/'transportation/green_bus_01.svg').unlink()
    only = offline_web(categories='food', embed_fn=hashed_bow_embed, **kw)
    assert only.ids == ['openclipart/food/blue_cake_01']
    with pytest.raises(ValueError, match='allowed'): offline_web(categories=['cars'], embed_fn=hashed_bow_embed, **kw)
    with pytest.raises(ValueError, match='sources'): build_offline_web(tmp_path, sources=['flickr'], openclipart_root=web_root)

def test_explorer_widget(web_root, tmp_path):
    eng = offline_web(embed_fn=hashed_bow_embed, sources='openclipart', openclipart_root=web_root, cache=tmp_path/'c', size=16)
    ui = web_explorer(eng, k=2, score_fn=lambda rs: np.arange(len(rs)))
    ui.children[0].value = 'black car'
    assert [r.id for r in ui.results][0] == 'openclipart/transportation/black_car_01' and len(ui.results) == 2
    with pytest.raises(ValueError): web_explorer(eng, k=0)

def test_caption_embeddings_cached_once(web_root, tmp_path, monkeypatch):
    import genrich.explorer.search as S
    calls = []
    def fake(texts): calls.append(len(texts)); return hashed_bow_embed(texts, 64)      # stand-in for MiniLM, same code path
    monkeypatch.setattr(S, 'minilm_embed', fake)
    kw = dict(sources='openclipart', openclipart_root=web_root, cache=tmp_path/'cache', size=16)
    a = offline_web(**kw)
    held = offline_web(exclude_categories='animals', **kw)
    assert calls == [4]                                      # all four captions embedded once, reused by the second engine
    assert len(list((web_dir(16, tmp_path/'cache')/'embeddings').iterdir())) == 1
    ref = CaptionIndexEngine(a.images, a.captions, a.ids, embed_fn=lambda t: hashed_bow_embed(t, 64))
    assert [h.id for h in a.search('blue cake', 4)] == [h.id for h in ref.search('blue cake', 4)]
    assert [h.id for h in held.search('blue cake', 4)] == ['openclipart/transportation/black_car_01']

def test_missing_source_names_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv('GENRICH_DATA', str(tmp_path))
    src = type(OPENCLIPART)(OPENCLIPART.name, OPENCLIPART.relpath, (str(tmp_path/'nowhere'),), OPENCLIPART.install)
    with pytest.raises(FileNotFoundError, match='apt-get install openclipart-svg'): find_data(src)

def _installed(src):
    try: find_data(src); return True
    except FileNotFoundError: return False

@pytest.mark.skipif(not (_installed(OPENCLIPART) and _installed(NOTO_EMOJI)), reason='openclipart-svg / fonts-noto-color-emoji not installed')
def test_real_packages_render_a_handful(tmp_path):
    oc = openclipart_items()
    assert 7000 < len(oc) <= 8121 and len({it.id for it in oc}) == len(oc)
    assert len({it.category for it in oc}) == 22
    em = emoji_items()
    assert 3700 < len(em) <= 3963
    m = build_offline_web(tmp_path, size=32, limit=5)
    df = load_manifest(m)
    assert len(df) >= 8 and set(df.source) == {'openclipart', 'emoji'}
    for p in df.image_path:
        a = np.asarray(Image.open(p)); assert a.shape == (32, 32, 3) and (a < 250).any()      # something was drawn
    dog = np.asarray(render_emoji('\U0001F436', 32)).astype(int)
    assert np.abs(dog[..., 0] - dog[..., 2]).max() > 60                                     # in colour

def test_pool_render_repeats_exactly(tmp_path):
    "Two 2-worker renders of the same text-bearing openclipart files give byte-identical PNGs (cairo is reset before each SVG)."
    texty = [it for it in openclipart_items() if it.category in ('education', 'computer', 'signs_and_symbols')
             and b'<text' in Path(it.origin).read_bytes()][:120]
    assert len(texty) >= 60
    import multiprocessing as mp
    import genrich.explorer.web as W
    outs = []
    for chunk in (7, 3):                 # other chunkings: each worker renders the files after other predecessors
        with mp.get_context('fork').Pool(2) as pool: res = pool.map(W._render_job, [(it, 64, None) for it in texty], chunksize=chunk)
        outs.append({iid: png for iid, _, png, err in res if err is None})
    assert len(outs[0]) >= 50 and outs[0].keys() == outs[1].keys()
    assert [k for k in outs[0] if outs[0][k] != outs[1][k]] == []
