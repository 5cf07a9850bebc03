"""Lemma 2.1.1 (§2.1.6, App. A.4): the coupon-collector simulation agrees with n*H_cs and n*H_c/s within Monte Carlo error."""
import numpy as np, pytest
from genrich.explorer.theory import harmonic, expected_time_base, expected_time_gpr, simulate_discovery

@pytest.mark.parametrize('n,c,s', [(1000, 2, 5), (3000, 4, 20), (500, 1, 50)])
def test_simulation_matches_lemma(n, c, s):
    rng = np.random.default_rng(n + c + s); trials = 1500
    for gpr, f in ((False, expected_time_base(n, c, s)), (True, expected_time_gpr(n, c, s))):
        t = simulate_discovery(n, c, s, trials, rng, gpr=gpr)
        assert abs(t.mean() - f) < 4*t.std(ddof=1)/np.sqrt(trials)

def test_exact_distribution_single_cluster_gpr():
    # with GPR and c = 1, the time is geometric with p = s/n
    t = simulate_discovery(100, 1, 10, 20_000, np.random.default_rng(0), gpr=True)
    for k in (3, 10, 25): assert (t > k).mean() == pytest.approx(0.9**k, abs=0.012)

def test_formulas():
    assert harmonic(1) == 1 and harmonic(0) == 0
    assert expected_time_gpr(150_000, 2, 150) == pytest.approx(1500)
    assert expected_time_base(100, 2, 3)/expected_time_gpr(100, 2, 3) == pytest.approx(3*harmonic(6)/harmonic(2))

def test_bad_input():
    with pytest.raises(ValueError, match='cannot exceed'): simulate_discovery(10, 4, 4, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match='trials=0'): simulate_discovery(10, 1, 1, 0, np.random.default_rng(0))
