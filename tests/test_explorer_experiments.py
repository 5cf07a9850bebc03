"""Internet Explorer foundation experiments: records, figures and the claims table (small settings; the quick `reproduce` runs in the notebook's slow cell)."""
import numpy as np
from genrich.explorer.experiments import sampling_record, discovery_record, plot_explorer_fig23, plot_explorer_discovery, _claims
from genrich.explorer.theory import lemma_record
from genrich.cli import CHAPTERS

def test_registered():
    assert CHAPTERS['internet_explorer'][0] == 'genrich.explorer.experiments:reproduce'

def test_records_and_claims():
    s = sampling_record(0); assert abs(s['mass_top_tiered'] - 0.9) < 1e-12
    d = discovery_record(n_other=300, iters=3, m=12, seed=1)
    assert d['n_relevant'] == d['category_sizes'][1] + d['category_sizes'][2]
    assert len(d['gpr']['found']) == 3 and d['gpr']['found'] == sorted(d['gpr']['found'])
    lem = lemma_record(n=2000, c=2, sizes=(1, 5), trials=100)
    nb = dict(vocabulary=dict(n_concepts=146_347, category_sizes=d['category_sizes']), sampling=s, lemma=lem, discovery=d)
    rows = _claims(nb); assert len(rows) == 7 and rows[0][2] == 'yes' and rows[-1][2] == 'not tested'
    assert all('|' not in c + m for c, m, _ in rows)          # table cells must not break the markdown table
    plot_explorer_fig23(s); plot_explorer_discovery(d)
