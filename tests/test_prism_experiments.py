"""Prism experiments: reproduce runs end to end at a toy size and writes its record, figures and report section."""
import json
import torch; torch.set_num_threads(1)
from genrich.core import Scale, load_result
from genrich.prism.experiments import reproduce

TOY = dict(tasks=dict(addition=dict(n_digits=2), pathstar=dict(degree=2, arm_len=2, n_labels=8)), n_train=200, n_test=20, spec_k=(2,), sudoku_floor_n=2,
           model=dict(d_model=16, n_layers=1, n_heads=2), train=dict(steps=20, batch_size=16, lr=3e-3, warmup=5, log_every=10, ckpt_every=20),
           text=dict(seq_len=16, n_train=200, n_val=32, n_orders=1, model=dict(d_model=16, n_layers=1, n_heads=2),
                     train=dict(steps=10, batch_size=8, lr=3e-3, warmup=2, log_every=5, ckpt_every=10)),
           scaling=dict(seq_len=16, n_train=200, n_val=32, budgets=[1e8, 3e8], sizes=[dict(d_model=16, n_layers=1, n_heads=2), dict(d_model=32, n_layers=1, n_heads=2)],
                        methods={'AR': dict(pos='rope', order='left_to_right', block=None), 'Prism b=4': dict(pos='double_rope', order='blockwise', block=4)}))


def test_reproduce_toy(tmp_path):
    md = reproduce(Scale('quick'), tmp_path, overrides=TOY)
    assert md.startswith('## Prism') and '| claim (thesis, with its number) | measured here | holds? |' in md
    rec = load_result('prism', out=tmp_path)
    n = rec['numbers']
    assert set(n) == {'table_5_4', 'table_5_1', 'fig_5_5', 'table_5_2', 'sudoku_clue_floor'}
    assert all(17 <= c <= 35 for c in n['sudoku_clue_floor']['counts']) and 'Sudoku generator (measured)' in md
    assert all(0 <= v <= 100 for r in n['table_5_4'].values() for v in r.values())
    for r in n['table_5_2']['rows'].values():           # measured costs equal the Table 5.2 formulas
        if r['theory']['passes'] is not None:
            assert r['passes'] == r['theory']['passes'] and r['tokens_computed'] == r['theory'].get('exact', r['theory']['tokens_computed'])
    assert (tmp_path/'figures'/'prism_fig_5_5.png').stat().st_size > 0
    assert '### Table 5.1 on text' in md and load_result('prism_table_5_1', out=tmp_path)['numbers']['val_book'] == 'persuasion'
    assert (tmp_path/'models'/'prism'/'addition_prism'/'model.safetensors').exists()
    f54 = load_result('prism_fig_5_4', out=tmp_path)['numbers']
    assert '### Fig 5.4 on text' in md and len(f54['runs']) == 8 and set(f54['fits']['methods']) == {'AR', 'Prism b=4'}
    assert (tmp_path/'figures'/'prism_fig_5_4.png').stat().st_size > 0


def test_sudoku_pipeline_end_to_end_tiny(tmp_path):
    "Generate, train a tiny Prism model, fit the confidence head, decode with every strategy and score exact solves (no AR row)."
    from genrich.prism.experiments import settings, table_5_4, decoding_trace
    from genrich.prism.tasks import Sudoku
    st = {**settings(Scale('quick')), 'tasks': dict(sudoku=dict(n_clues=(27, 28))), 'n_train_sudoku': 8, 'n_test': 3, 'sudoku_test_clues': 28,
          'model': dict(d_model=16, n_layers=1, n_heads=2), 'train': dict(steps=4, batch_size=4, lr=3e-3, warmup=1, log_every=2, ckpt_every=4)}
    r = table_5_4(Scale('quick'), tmp_path, st)
    row = r['table']['sudoku']
    assert 'AR, left to right' not in row and set(row) >= {'Prism, confidence', 'Prism, confidence head', 'Prism, right to left'}
    assert all(0 <= v <= 100 for v in row.values())
    pm, task, data, test = r['models']['sudoku_prism']
    assert (test['prompt'].sum(1) == 28).all() and Sudoku().unique(test['x'], test['prompt']).all()
    tr = decoding_trace(pm, task, test['x'][0], test['prompt'][0], order='confidence')
    got = torch.tensor(tr['tokens'])
    assert torch.equal(got[test['prompt'][0]], test['x'][0][test['prompt'][0]])       # the clues are kept
    assert sorted(tr['step']) == [0] * 28 + list(range(1, 54))                        # every blank filled once
    assert tr['correct'] == bool(Sudoku().check(got[None])[0])                        # scored by the Sudoku rules
