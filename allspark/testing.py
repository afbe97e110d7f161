"""Helpers for tests (core and plugins): a tiny language model and a few-iteration training run.

Tests must be quick on 2 CPU cores and must not need downloads or the real benchmark data, so
they build small fixtures in the original formats and train the real configs for a few
iterations, with a tiny randomly initialised BERT in place of MiniLM (same tokenizer, same code
path through ``HFLanguageModel``).
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
from typing import Optional

from mmengine.config import Config

_TINY_LM_DIR: Optional[str] = None


def tiny_language_model_dir() -> str:
    """A folder holding a 2-layer, 32-wide BERT (random weights) with MiniLM's tokenizer."""
    global _TINY_LM_DIR
    if _TINY_LM_DIR and os.path.isdir(_TINY_LM_DIR):
        return _TINY_LM_DIR
    import torch
    from transformers import BertConfig, BertModel

    from allspark.models.language_model import default_language_model_path

    folder = tempfile.mkdtemp(prefix='allspark_tiny_lm_')
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=512)
    BertModel(config).save_pretrained(folder)
    src = default_language_model_path()
    for name in ('tokenizer.json', 'tokenizer_config.json', 'vocab.txt',
                 'special_tokens_map.json'):
        if os.path.exists(src / name):
            shutil.copy(src / name, folder)
    _TINY_LM_DIR = folder
    return folder


def tiny_language_model_cfg() -> dict:
    return dict(type='HFLanguageModel', name_or_path=tiny_language_model_dir())


def smoke_config(config, work_dir: str, max_iters: int = 3, batch_size: int = 4,
                 tiny_lm: bool = True, cfg_options: Optional[dict] = None) -> Config:
    """A config (path, ``<plugin>::<file>`` or ``Config``) cut down to ``max_iters`` iterations,
    for tests."""
    if isinstance(config, str):
        from allspark.config import load_config

        cfg = load_config(config, cfg_options)  # data_root= reaches every dataset
    else:
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    if tiny_lm:
        cfg.model.language_model = tiny_language_model_cfg()
    cfg.train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler = []
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=max_iters,
                                        by_epoch=False)
    cfg.log_processor = dict(by_epoch=False)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].batch_size = batch_size
            cfg[key].num_workers = 0
            cfg[key].pop('persistent_workers', None)
    return cfg


def run_smoke_training(config, work_dir: str, max_iters: int = 3, batch_size: int = 4,
                       tiny_lm: bool = True, cfg_options: Optional[dict] = None) -> dict:
    """Train ``max_iters`` iterations, then evaluate on the test set; returns the metrics."""
    from allspark.engine.runner import build_runner

    cfg = smoke_config(config, work_dir, max_iters, batch_size, tiny_lm, cfg_options)
    runner = build_runner(cfg)
    runner.train()
    return runner.test() if cfg.get('test_dataloader') else {}
