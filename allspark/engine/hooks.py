"""Hooks every AllSpark run gets (``build_runner`` adds them).

* ``DatasetStatsHook``: copies the training split's statistics (input normalisation, regression
  targets) into model buffers before the first iteration, so they are saved with checkpoints.
* ``ReproducibleStateHook``: saves the Python, NumPy, torch and prompt-bank random states in every
  checkpoint
  (as plain numbers and tensors) and restores them on resume, and makes the rest of the saved
  state plain Python, so a killed-and-resumed run ends bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from allspark.engine.checkpoint import from_plain, to_plain
from allspark.registry import HOOKS


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class DatasetStatsHook(Hook):
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        stats = dataset.stats() if hasattr(dataset, 'stats') else None
        model = unwrap(runner.model)
        if stats and hasattr(model, 'apply_dataset_stats'):
            model.apply_dataset_stats(stats)
            runner.logger.info(f'DatasetStatsHook: training-split statistics applied '
                               f'({", ".join(sorted(stats))})')


def get_rng_state() -> dict:
    version, state, gauss = random.getstate()
    np_state = np.random.get_state()
    return dict(python=dict(version=version, state=torch.tensor(state, dtype=torch.int64),
                            gauss=gauss),
                numpy=dict(kind=np_state[0], keys=torch.from_numpy(np_state[1].astype(np.int64)),
                           pos=int(np_state[2]), has_gauss=int(np_state[3]),
                           cached=float(np_state[4])),
                torch=torch.get_rng_state(),
                cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [])


def set_rng_state(state: dict) -> None:
    py = state['python']
    random.setstate((py['version'], tuple(int(v) for v in py['state'].tolist()), py['gauss']))
    n = state['numpy']
    np.random.set_state((n['kind'], n['keys'].numpy().astype(np.uint32), n['pos'],
                         n['has_gauss'], n['cached']))
    torch.set_rng_state(state['torch'])
    if state.get('cuda') and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class ReproducibleStateHook(Hook):
    priority = 'VERY_LOW'  # after every other hook has added to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_state()
        bank = getattr(unwrap(runner.model), 'prompt_bank', None)
        if bank is not None:  # which prompt each step draws
            checkpoint['rng_state']['prompt_bank'] = bank.state_dict()
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:  # before the runner loads it into its message hub
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])
        state: Optional[dict] = checkpoint.get('rng_state')
        if state is not None:
            set_rng_state(state)
            bank = getattr(unwrap(runner.model), 'prompt_bank', None)
            if bank is not None and 'prompt_bank' in state:
                bank.load_state_dict(state['prompt_bank'])
            # An iteration-based loop replays the data it already consumed after loading; it
            # restores this state again once it has (see ResumableIterBasedTrainLoop).
            runner._allspark_rng_state = state
