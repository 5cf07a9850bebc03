"""The `genrich` console script end to end (fake chapters; real chapters have their own tests)."""
import subprocess, sys
from pathlib import Path
import pytest
from genrich import cli

GENRICH = str(Path(sys.executable).parent/'genrich')

def test_help_lists_chapters():
    r = subprocess.run([GENRICH, '--help'], capture_output=True, text=True)
    assert r.returncode == 0
    for name in cli.CHAPTERS: assert name in r.stdout

def test_chapters_command():
    r = subprocess.run([GENRICH, 'chapters'], capture_output=True, text=True)
    assert r.returncode == 0 and all(n in r.stdout for n in cli.CHAPTERS)

@pytest.mark.parametrize('args,msg', [(['--chapter', 'nope'], "chapter='nope'"), (['--scale', 'huge'], 'invalid choice')])
def test_bad_arguments(args, msg, tmp_path):
    r = subprocess.run([GENRICH, 'reproduce', *args, '--out', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode != 0 and msg in (r.stdout + r.stderr)

def test_failed_chapter_does_not_stop_others(tmp_path, monkeypatch):
    def ok(scale, out): return '## fine'
    def bad(scale, out): raise ValueError('nope')
    monkeypatch.setattr(cli, 'CHAPTERS', {'a': (ok, ''), 'b': (bad, ''), 'c': (ok, '')})
    st = cli.run_chapters('all', 'quick', out=tmp_path)
    assert [v['status'] for v in st.values()] == ['ok', 'failed', 'ok']
    rep = (tmp_path/'results'/'REPORT.md').read_text()
    assert 'b: FAILED' in rep and 'nope' in rep
