"""Data loaders for packaged data sets: Fashion-MNIST (tested in test_ddpm.py) and the Jane Austen novels."""
import gzip, struct, zlib
import pytest
from genrich import data as D

try: BOOKS = D.load_jane_austen()
except FileNotFoundError: BOOKS = None
needs_austen = pytest.mark.skipif(BOOKS is None, reason='r-cran-janeaustenr not unpacked; run `make data`')

@needs_austen
def test_six_novels():
    assert sorted(BOOKS) == ['emma', 'mansfieldpark', 'northangerabbey', 'persuasion', 'prideprejudice', 'sensesensibility']
    assert BOOKS['prideprejudice'].startswith('PRIDE AND PREJUDICE')
    assert BOOKS['persuasion'].count('\n') + 1 == 8328

def _xdr(*parts): return b'X\n' + b''.join(parts)
def _i(*v): return struct.pack(f'>{len(v)}i', *v)

def test_r_unserialize_handcrafted_character_vector():
    # version 3 header, encoding "UTF-8", then STRSXP of 2 CHARSXPs (one NA): written by hand from R's format
    hdr = _i(3, 0x040201, 0x030500) + _i(5) + b'UTF-8'
    body = _i(16, 2) + _i(0x00040009, 2) + b'hi' + _i(0x00040009, -1)
    assert D.r_unserialize(_xdr(hdr, body)) == ['hi', None]

def test_r_unserialize_named_list_of_ints():
    hdr = _i(2, 0x040201, 0x020300)
    names_attr = _i(0x00000402) + _i(1) + _i(0x00040009, 5) + b'names' + _i(16, 2) + _i(0x00040009, 1) + b'a' + _i(0x00040009, 1) + b'b' + _i(254)
    body = _i(19 | (1 << 9), 2) + _i(13, 1, 7) + _i(13, 2, 1, 2) + names_attr
    assert D.r_unserialize(_xdr(hdr, body)) == {'a': [7], 'b': [1, 2]}

def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match='not an XDR R serialization'): D.r_unserialize(b'RDX3\n')
    with pytest.raises(FileNotFoundError, match='does not exist'): D.load_jane_austen(tmp_path/'nope.rdb')
