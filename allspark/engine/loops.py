"""``ResumableIterBasedTrainLoop``: mmengine's iteration loop, with random state kept on resume.

On resume mmengine advances the data iterator past the batches already trained, which runs their
random transforms again; we restore the checkpoint's random state after that, so the next batch
sees exactly what an uninterrupted run saw.
"""
from __future__ import annotations

from mmengine.runner import IterBasedTrainLoop

from allspark.engine.hooks import set_rng_state
from allspark.registry import LOOPS


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self.runner.logger.info(f'Resuming: advancing the data iterator {self._iter} steps')
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            state = getattr(self.runner, '_allspark_rng_state', None)
            if state is not None:
                set_rng_state(state)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0 or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
