"""Prism tasks: every generator's answers are right by an independent check."""
import numpy as np, pytest, torch
from genrich.prism.tasks import Addition, PathStar, Sudoku, exact_match, sudoku_count, sudoku_valid
import torch as _torch; _torch.set_num_threads(1)   # tiny models; the CI CPU is shared


def test_addition_against_python_ints():
    t = Addition(20)
    b = t.generate(500, seed=3)
    assert b['x'].shape == (500, 63) and t.check(b['x']).all()
    for row in b['x'][:50].tolist():                         # a second, direct check
        s = t.decode(row); a, rest = s.split('+'); bb, c = rest.split('=')
        assert len(a) == len(bb) == 20 and len(c) == 21 and int(a) + int(bb) == int(c)
    wrong = b['x'].clone(); wrong[:, 42] = (wrong[:, 42] + 1) % 10
    assert not t.check(wrong).any() and not exact_match(wrong, b['x'], b['prompt']).any()
    assert exact_match(b['x'], b['x'], b['prompt']).all()


def test_pathstar_against_bfs():
    t = PathStar(5, 5)
    b = t.generate(300, seed=0)
    assert t.check(b['x']).all()
    x = b['x']
    E = 50
    for r in x[:20].tolist():                                 # every answer step is an edge; the first leaves the centre
        edges = set(zip(r[:E:2], r[1:E:2]))
        path = [r[E + 1]] + r[E + 4:]
        assert all((u, v) in edges for u, v in zip(path, path[1:])) and path[-1] == r[E + 2]
    other = x.clone(); other[:, -1] = x[:, 1]                # a wrong target node
    assert not t.check(other).all()


def test_sudoku_rules_and_uniqueness():
    t = Sudoku((22, 28))
    b = t.generate(3, seed=5)
    g = b['x'] + 1
    for r in g.tolist():
        a = np.array(r).reshape(9, 9)
        assert all(sorted(a[i]) == list(range(1, 10)) and sorted(a[:, i]) == list(range(1, 10)) for i in range(9))
        assert all(sorted(a[3 * (k // 3):3 * (k // 3) + 3, 3 * (k % 3):3 * (k % 3) + 3].ravel()) == list(range(1, 10)) for k in range(9))
    assert t.unique(b['x'], b['prompt']).all()
    n = b['prompt'].sum(1)
    assert ((n >= 22) & (n <= 28)).all()
    assert sudoku_count([0] * 81, 2) == 2 and not sudoku_valid([1] * 81)


def test_sudoku_generation_is_the_same_on_several_processes():
    one = Sudoku((26, 28), chunk=2).generate(5, seed=3)
    two = Sudoku((26, 28), chunk=2, n_jobs=2).generate(5, seed=3)
    assert torch.equal(one['x'], two['x']) and torch.equal(one['prompt'], two['prompt'])
    with pytest.raises(ValueError, match='n_jobs'): Sudoku(n_jobs=0).generate(2)


def test_sudoku_clue_floor_gives_irreducible_unique_puzzles():
    from genrich.prism.tasks import sudoku_clue_floor
    f = sudoku_clue_floor(3, seed=1)
    assert len(f['counts']) == 3 and all(17 <= c <= 35 for c in f['counts']) and all(s > 0 for s in f['seconds'])
    sol, m = Sudoku().minimal_puzzle(np.random.default_rng(2))
    g = [int(v) if k else 0 for v, k in zip(sol, m)]
    assert sudoku_count(g, 2) == 1 and sudoku_valid(list(sol))
    for i in np.flatnonzero(m):                    # every clue is needed
        h = list(g); h[i] = 0
        assert sudoku_count(h, 2) >= 2                # (the count may overshoot its limit)
