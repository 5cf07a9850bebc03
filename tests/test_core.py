"""genrich.core as users import it: seeding, checks, atomic records, figures, data sources."""
import json, os
import numpy as np
import pytest
from genrich import core

def test_seed_repeats_exactly():
    import torch
    a = core.seed_everything(123).normal(size=4), torch.randn(4)
    b = core.seed_everything(123).normal(size=4), torch.randn(4)
    np.testing.assert_array_equal(a[0], b[0]); assert torch.equal(a[1], b[1])

@pytest.mark.parametrize('bad', [-1, 2**32, 1.5, 'x'])
def test_seed_rejects_bad(bad):
    with pytest.raises((ValueError, TypeError), match='seed'): core.seed_everything(bad)

def test_device_env_override(monkeypatch):
    monkeypatch.setenv('GENRICH_DEVICE', 'cpu'); assert core.get_device() == 'cpu'
    monkeypatch.setenv('GENRICH_DEVICE', 'abacus')
    with pytest.raises(ValueError, match="device='abacus'"): core.get_device()

def test_result_record_roundtrip(tmp_path):
    p = core.save_result('x', {'a': np.arange(2), 'b': np.float64(0.25)}, config={'k': 1}, seed=7, out=tmp_path)
    rec = json.loads(p.read_text())
    assert rec['numbers'] == {'a': [0, 1], 'b': 0.25} and rec['seed'] == 7 and rec['config'] == {'k': 1}
    assert {'git_revision', 'versions', 'wall_time_s', 'created'} <= set(rec)

def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    p = core.atomic_write_text(tmp_path/'f.txt', 'old')
    def boom(*a, **k): raise OSError('disk full')
    monkeypatch.setattr(core.os, 'replace', boom)
    with pytest.raises(OSError): core.atomic_write_text(p, 'new')
    assert p.read_text() == 'old' and sorted(x.name for x in tmp_path.iterdir()) == ['f.txt']

def test_save_fig_is_deterministic(tmp_path):
    import matplotlib.pyplot as plt
    outs = []
    for _ in range(2):
        fig, ax = plt.subplots(); ax.plot([1, 3, 2]); outs.append(core.save_fig(fig, 'f', out=tmp_path).read_bytes()); plt.close(fig)
    assert outs[0] == outs[1]

def test_find_data_names_install_command(tmp_path, monkeypatch):
    monkeypatch.delenv('GENRICH_DATA', raising=False)
    src = core.DataSource('Thing', 'thing/x', system_dirs=(str(tmp_path),), install='sudo apt-get install thing-data')
    with pytest.raises(FileNotFoundError, match='sudo apt-get install thing-data'): core.find_data(src)
    (tmp_path/'thing').mkdir(); (tmp_path/'thing'/'x').write_text('1')
    assert core.find_data(src) == tmp_path/'thing'/'x'

@pytest.mark.parametrize('kw,msg', [(dict(value=-0.1, lo=0, hi=1), r'rho=-0.1 is outside'), (dict(value=float('nan'), lo=0), 'finite')])
def test_check_range_messages(kw, msg):
    with pytest.raises(ValueError, match=msg): core.check_range('rho', **kw)

def test_scale_rejects_unknown():
    with pytest.raises(ValueError, match="scale='medium'"): core.Scale('medium')

def test_progress_env_and_disable_kwarg(monkeypatch):
    monkeypatch.setenv('GENRICH_PROGRESS', '0')
    assert core.progress(range(3), disable=False).disable    # no TypeError, and the environment wins
    monkeypatch.delenv('GENRICH_PROGRESS')
    assert core.progress(range(3), disable=True).disable

def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv('GENRICH_CACHE', raising=False); monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert core.cache_dir() == tmp_path/'genrich'
    monkeypatch.setenv('GENRICH_CACHE', str(tmp_path/'c'))
    assert core.cache_dir() == tmp_path/'c'


def test_cached_result_reuses_only_an_equal_config(tmp_path):
    from genrich.core import cached_result
    calls = []
    def fn(): calls.append(1); return {'n_calls': len(calls)}
    a = cached_result('rec', {'seed': 1, 'sizes': (2, 3)}, fn, out=tmp_path)
    b = cached_result('rec', {'seed': 1, 'sizes': [2, 3]}, fn, out=tmp_path)
    assert len(calls) == 1 and a['numbers'] == b['numbers'] == {'n_calls': 1} and a['seed'] == 1
    (tmp_path/'results'/'rec.json').write_text('{truncated')          # a corrupt record is recomputed, not a crash
    c = cached_result('rec', {'seed': 1, 'sizes': [2, 3]}, fn, out=tmp_path)
    assert c['numbers'] == {'n_calls': 2}
    with pytest.raises(TypeError, match='config must be a dict'): cached_result('rec', [1], fn, out=tmp_path)


def test_cached_array_reads_only_a_matching_cache(tmp_path):
    from genrich.core import cached_array
    calls = []
    def make(): calls.append(1); return np.ones((5, 3), np.float32)
    f = tmp_path/'x'/'a.npy'
    a = cached_array(f, make, shape=(5, None)); b = cached_array(f, make, shape=(5, 3))
    assert len(calls) == 1 and np.array_equal(a, b) and b.dtype == np.float32
    cached_array(f, make, shape=(6, 3)); assert len(calls) == 2           # stale length: recomputed
    f.write_bytes(b'\x93NUMPY truncated'); cached_array(f, make); assert len(calls) == 3
    with pytest.raises(TypeError, match='compute must be a callable'): cached_array(f, np.ones(3))
