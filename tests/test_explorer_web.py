"""The offline web (genrich.explorer.web): SVG metadata, rendering, the resumable cache, the manifest and the engine."""
import csv, logging, os
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from genrich.explorer.web import (svg_metadata, svg_caption, render_svg, render_emoji, openclipart_items, emoji_items,
                                  build_offline_web, load_manifest, offline_web, category_images, web_dir,
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
    only = offline_web(categories='food', embed_fn=hashed_bow_embed, **kw)
    assert only.ids == ['openclipart/food/blue_cake_01']
    with pytest.raises(ValueError, match='allowed'): offline_web(categories=['cars'], embed_fn=hashed_bow_embed, **kw)
    with pytest.raises(ValueError, match='sources'): build_offline_web(tmp_path, sources=['flickr'], openclipart_root=web_root)

def test_engine_cache_save_load(web_root, tmp_path, monkeypatch):
    import genrich.explorer.search as S
    monkeypatch.setattr(S, 'minilm_embed', lambda texts: hashed_bow_embed(texts, 64))   # stand-in for MiniLM, same code path
    kw = dict(sources='openclipart', openclipart_root=web_root, cache=tmp_path/'cache', size=16)
    a = offline_web(**kw)
    assert len(list((web_dir(16, tmp_path/'cache')/'engines').iterdir())) == 1
    b = offline_web(**kw)                                          # loaded from the cache
    assert b.ids == a.ids and [h.id for h in b.search('blue cake', 3)] == [h.id for h in a.search('blue cake', 3)]

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
