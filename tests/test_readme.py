"""README.md and nbs/index.ipynb must say the same thing (Quarto is not available to generate one from the other)."""
import json, re
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]

def _norm(t): return re.sub(r'\s+', ' ', t).strip()

def test_index_matches_readme():
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(src)
        elif not src.startswith('#| hide'): parts.append(f'```python\n{src}\n```')
    assert _norm('\n'.join(parts)) == _norm((ROOT/'README.md').read_text())

def test_readme_names_the_two_commands():
    text = (ROOT/'README.md').read_text()
    assert 'make reproduce' in text and 'make test' in text
