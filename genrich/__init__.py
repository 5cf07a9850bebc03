"""genrich: a notebook-first research workbook for "Generalization Through Richer Supervision" (A. C. Li, 2025).

The package is exported from the notebooks in `nbs/`; import the modules you need, e.g.
`from genrich.shortcut import make_shortcut_data, LDA`.
"""
__version__ = "0.1.0"
