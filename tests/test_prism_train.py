"""Prism training: a 2-process CPU (gloo) run matches a 1-process run with the same global batch; resume is exact."""
import json, os, socket, subprocess, sys, textwrap
import pytest, torch
from safetensors.torch import load_file
from genrich.core import repo_root

SCRIPT = textwrap.dedent('''
    import sys, torch
    torch.set_num_threads(1)
    from genrich.prism.train import train, TrainConfig
    from genrich.prism.model import Prism, PrismConfig
    from genrich.prism.tasks import Addition
    t = Addition(2); data = t.generate(500, seed=0)
    torch.manual_seed(0)
    m = Prism(PrismConfig(vocab_size=12, max_len=t.T, d_model=32, n_layers=1, n_heads=2))
    train(m, data, TrainConfig(steps=6, batch_size=16, warmup=2, log_every=1), sys.argv[1])
    if torch.distributed.is_initialized(): torch.distributed.destroy_process_group()   # a live gloo group at exit can abort
''')


def _run(cmd, env):
    "Run `cmd`; on failure show its stderr (CI records only what pytest prints)."
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{cmd} exited {r.returncode}:\n{r.stderr[-3000:]}"


def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def test_two_process_gloo_matches_one_process(tmp_path):
    (tmp_path/'run.py').write_text(SCRIPT)
    env = {**os.environ, 'PYTHONPATH': str(repo_root()), 'GENRICH_PROGRESS': '0', 'OMP_NUM_THREADS': '1'}
    _run([sys.executable, str(tmp_path/'run.py'), str(tmp_path/'one')], env)
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
          str(tmp_path/'run.py'), str(tmp_path/'two')], env)
    a, b = load_file(str(tmp_path/'one'/'model.safetensors')), load_file(str(tmp_path/'two'/'model.safetensors'))
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    la = json.loads((tmp_path/'one'/'train_record.json').read_text())['losses']
    lb = json.loads((tmp_path/'two'/'train_record.json').read_text())['losses']
    assert len(la) == 6 and max(abs(x - y) for x, y in zip(la, lb)) < 1e-5


def test_bad_train_input():
    from genrich.prism.train import train, TrainConfig
    from genrich.prism.model import Prism, PrismConfig
    m = Prism(PrismConfig(vocab_size=12, max_len=5, d_model=16, n_layers=1, n_heads=2))
    with pytest.raises(ValueError, match='exceeds max_len'): train(m, dict(x=torch.zeros(3, 6, dtype=torch.long), prompt=torch.zeros(3, 6, dtype=torch.bool)), TrainConfig(steps=1))
    with pytest.raises(ValueError, match="key 'prompt'"): train(m, dict(x=torch.zeros(3, 5, dtype=torch.long)), TrainConfig(steps=1))
    with pytest.raises(ValueError, match='steps=0'): TrainConfig(steps=0)
