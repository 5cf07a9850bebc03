"""Shared pytest set-up: offline hub, headless matplotlib, quiet progress bars, one CPU thread each."""
import os
os.environ['HF_HUB_OFFLINE'] = '1'
os.environ['TRANSFORMERS_OFFLINE'] = '1'
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('GENRICH_PROGRESS', '0')
import pytest
import torch
torch.set_num_threads(1)   # many tiny models: one thread each is faster on a shared 2-core machine

def pytest_collection_modifyitems(config, items):
    "Skip tests marked `gpu` when CUDA is not available."
    from genrich.core import gpu_available
    if gpu_available(): return
    skip = pytest.mark.skip(reason='needs a CUDA GPU')
    for it in items:
        if 'gpu' in it.keywords: it.add_marker(skip)
