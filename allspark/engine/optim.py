"""``AutocastOptimWrapper``: bfloat16 mixed precision for training on any device, CPU included.

mmengine's ``AmpOptimWrapper`` refuses to run without a GPU, yet the frozen language model's
matrix products dominate an AllSpark training step and CPUs with AVX512-BF16 run them several
times faster in bfloat16: measured on this project's 2-core CPU, a (464, 384) x (384, 1536)
product takes 6.4 ms in float32 and 1.4 ms in bfloat16, and a ModelNet40 training step
(``pointcloud::modelnet40_cpu.py``) 0.46 s -> 0.33 s.  The forward (and so the backward)
runs under ``torch.autocast(dtype=bfloat16)``; parameters, gradients and optimizer state stay
float32.  bfloat16 has float32's exponent range, so no loss scaling is needed (float16 would
need it: use mmengine's ``AmpOptimWrapper`` on a GPU for that).

CPUs without bfloat16 units (AVX2 only, e.g. the AMD EPYC measured in ``docs/benchmarks.md``)
emulate it and run it many times *slower* than float32: use ``enabled='auto'`` to get bfloat16
only where the device has the units (``allspark.engine.precision``).

    optim_wrapper = dict(type='AutocastOptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Union

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from allspark.engine.precision import default_device_type, resolve_bf16
from allspark.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` (the training forward) runs under bfloat16 autocast.

    Args:
        dtype: only ``'bfloat16'`` (see the module docstring for why not float16).
        enabled: ``False`` makes it a plain ``OptimWrapper`` (handy to A/B the same config);
            ``'auto'``: bfloat16 only where the device has bfloat16 matrix units (AVX512-BF16 /
            AMX CPUs, bf16-capable GPUs): elsewhere bfloat16 is emulated and many times slower
            than float32 (``allspark.engine.precision``; ``ALLSPARK_BF16=1/0`` overrides it).
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, dtype: str = 'bfloat16', enabled: Union[bool, str] = True,
                 **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(f"AutocastOptimWrapper: dtype must be 'bfloat16', got {dtype!r} "
                             "(float16 needs loss scaling: use mmengine's AmpOptimWrapper on a "
                             "GPU)")
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16
        self.requested = enabled
        self.enabled = resolve_bf16(enabled, default_device_type())

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        if isinstance(self.requested, str):  # 'auto': decided for the device the model is on
            self.enabled = resolve_bf16(self.requested, device_type)
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype,
                                                           enabled=self.enabled):
            yield
