"""Training health: a loss that explodes stops (or warns) naming the iteration, and a stop says
which checkpoint survives, if any; distributed runs end by destroying their process group.

``TrainingHealthHook`` (every run gets it, ``build_runner`` adds it) keeps the last ``window``
finite training losses; once it has ``min_history`` of them, a loss above ``factor`` times their
median is an explosion:

* ``action='stop'`` (default) raises ``TrainingHealthError`` naming the iteration, the loss, the
  median and the checkpoint that survives (the update of that step has already been applied, so
  the weights in memory are not trusted and nothing is saved);
* ``action='warn'`` logs a warning (once per ``window`` iterations) and carries on.

Change it per config: ``custom_hooks = [dict(type='TrainingHealthHook', factor=50,
action='warn')]``.  ``factor=None`` turns the check off.
"""
from __future__ import annotations

import os
import statistics
from collections import deque
from typing import Optional

from mmengine.hooks import Hook

from allspark.engine.distributed import finalize_distributed  # noqa: F401 (re-exported)
from allspark.registry import HOOKS

#: where the running training job saves checkpoints (set by ``TrainingHealthHook``)
_WORK_DIR: Optional[str] = None


class TrainingHealthError(FloatingPointError):
    """The training loss exploded (finite but far above its recent median)."""


def checkpoint_status(work_dir: Optional[str] = None) -> str:
    """A sentence naming the newest complete checkpoint of ``work_dir`` (default: the running
    job's), or saying there is none."""
    from allspark.engine.checkpoint import find_resume_checkpoint

    work_dir = work_dir or _WORK_DIR
    if not work_dir:
        return 'no checkpoint location is known (not run through build_runner)'
    path = find_resume_checkpoint(work_dir) if os.path.isdir(work_dir) else None
    if path is None:
        return f'no checkpoint has been saved yet in {work_dir}'
    return f'the newest saved checkpoint, {path}, is intact (resume with --resume)'


@HOOKS.register_module()
class TrainingHealthHook(Hook):
    """Stop (or warn) when the training loss grows ``factor``-fold over its running median.

    Args:
        factor: a loss above ``factor * median(last window losses)`` is an explosion (None: off).
        window: how many recent finite losses the median is taken over.
        min_history: no judgement before this many losses (the first steps move fast).
        action: ``'stop'`` (raise ``TrainingHealthError``) or ``'warn'``.
    """

    priority = 'HIGH'

    def __init__(self, factor: Optional[float] = 1000.0, window: int = 50, min_history: int = 10,
                 action: str = 'stop') -> None:
        if action not in ('stop', 'warn'):
            raise ValueError(f"TrainingHealthHook: action must be 'stop' or 'warn', got {action!r}")
        if factor is not None and not factor > 1:
            raise ValueError(f'TrainingHealthHook: factor must be > 1 (or None to turn the check '
                             f'off), got {factor!r}')
        if window < 1 or min_history < 1:
            raise ValueError(f'TrainingHealthHook: window and min_history must be >= 1, got '
                             f'{window}, {min_history}')
        self.factor, self.action = factor, action
        self.window, self.min_history = int(window), int(min_history)
        self.history: deque = deque(maxlen=self.window)
        self._last_warned: Optional[int] = None

    def before_train(self, runner) -> None:
        global _WORK_DIR
        _WORK_DIR = runner.work_dir

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.factor is None or not outputs or 'loss' not in outputs:
            return
        loss = float(outputs['loss'].detach() if hasattr(outputs['loss'], 'detach')
                     else outputs['loss'])
        if loss != loss or loss in (float('inf'), float('-inf')):
            return  # non-finite losses are stopped by the model before the update
        iteration = runner.iter + 1
        if len(self.history) >= self.min_history:
            median = statistics.median(self.history)
            if median > 0 and loss > self.factor * median:
                msg = (f'Training loss exploded at iteration {iteration}: {loss:.6g} is '
                       f'{loss / median:.3g} x the median {median:.6g} of the last '
                       f'{len(self.history)} iterations (TrainingHealthHook factor='
                       f'{self.factor:g}).')
                if self.action == 'stop':
                    raise TrainingHealthError(
                        f'{msg} Training stopped; {checkpoint_status(runner.work_dir)}. Lower the '
                        f'learning rate, enable clip_grad, or check the inputs; or set '
                        f"TrainingHealthHook(action='warn') to carry on.")
                if self._last_warned is None or iteration - self._last_warned >= self.window:
                    runner.logger.warning(msg + ' Carrying on (action="warn").')
                    self._last_warned = iteration
                return  # an exploded loss does not enter the median
        self.history.append(loss)
