"""Prism: any-order autoregressive discrete diffusion (thesis ch. 5).

Modules: `model` (the transformer, `PrismConfig`, `Prism`), `order` (decoding orders),
`sample` (sequential / parallel / speculative / confidence decoding), `loss` (per-step loss,
discretized loss Eq 5.10, optimal strategies, scaling-law fits), `tasks` (addition, path-star,
Sudoku), `train` (accelerate training loop) and `experiments` (`reproduce`).
"""
