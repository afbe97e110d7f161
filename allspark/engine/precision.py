"""Which precision and which attention kernel pay on the device in use.

bfloat16 only pays where the hardware has bfloat16 matrix units: CUDA GPUs that support it and
CPUs with AVX512-BF16 or AMX.  Elsewhere PyTorch emulates it, and it is far *slower* than float32:
measured on an AMD EPYC with AVX2 only (no AVX512), a (672, 384) x (384, 1536) product takes
134 ms in float32 and 5,058 ms in bfloat16 (38x slower, ``docs/benchmarks.md``).  So configs ask
for bfloat16 with ``'auto'`` and get it only where it is fast:

    optim_wrapper = dict(type='AutocastOptimWrapper', enabled='auto', optimizer=...)
    val_cfg = dict(fp16='auto')      # resolved by ``allspark.engine.runner.prepare_config``
    test_cfg = dict(fp16='auto')

``ALLSPARK_BF16=1`` / ``=0`` overrides the ``'auto'`` decision (explicit ``True``/``False`` in a
config always wins).

Attention: PyTorch's CPU scaled-dot-product attention (SDPA) backward is ~8x slower in bfloat16
than in float32 (20.4 ms vs 2.5 ms per MiniLM layer call on an AVX512-BF16 CPU, issue 16), while
plain (eager) attention -- two matmuls and a softmax -- runs at bfloat16 matmul speed.  So under
bfloat16 on a CPU with bfloat16 units the language model, the bridges and the encoders' attention
blocks use eager attention where a backward runs through them, up to ``EAGER_MAX_SCORES`` scores
per head; SDPA's bf16 *forward* is the faster one (inference, frozen encoders), and beyond ~400
tokens its backward wins too (measured, ``attention_implementation``).
Where bfloat16 is emulated the eager matmuls are the slow part instead: on the AVX2-only EPYC,
one MiniLM attention call (B 32, 12 heads, 21 tokens) forward+backward takes 114 ms with SDPA and
201 ms eager in bfloat16 (67 / 80 ms in float32), so SDPA stays (``attention_implementation``;
``docs/benchmarks.md``).  ``ALLSPARK_ATTENTION=eager`` / ``=sdpa`` overrides it.
"""
from __future__ import annotations

import functools
import os
from typing import Optional, Union

import torch

AUTO = 'auto'
_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('0', 'false', 'no', 'off')


@functools.lru_cache(maxsize=None)
def bf16_is_fast(device_type: str = 'cpu') -> bool:
    """Whether this device has hardware bfloat16 matrix products (so bf16 autocast pays)."""
    if device_type == 'cuda':
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type == 'cpu':
        cpu = getattr(torch, 'cpu', None)
        checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
        return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)
    return False


def resolve_bf16(enabled: Union[bool, str], device_type: str = 'cpu') -> bool:
    """``True``/``False`` stay as given; ``'auto'`` -> ``ALLSPARK_BF16`` if set, else
    ``bf16_is_fast(device_type)``."""
    if isinstance(enabled, str):
        if enabled != AUTO:
            raise ValueError(f"bfloat16 switch must be True, False or 'auto', got {enabled!r}")
        env = os.environ.get('ALLSPARK_BF16', '').strip().lower()
        if env in _TRUE:
            return True
        if env in _FALSE:
            return False
        if env and env != AUTO:
            raise ValueError(f"ALLSPARK_BF16 must be 1, 0 or auto, got {env!r}")
        return bf16_is_fast(device_type)
    return bool(enabled)


def default_device_type() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    """The dtype matrix products on ``tensor`` run in (autocast included)."""
    device_type = tensor.device.type
    if device_type in ('cpu', 'cuda') and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return tensor.dtype


# Beyond this many attention scores per head (query x key tokens) eager attention loses to SDPA
# even in a bfloat16 backward on a CPU: MiniLM-shaped calls (12 heads of 32), fwd+bwd, one
# thread, eager / SDPA time: 0.21 at 21 tokens, 0.16 at 64, 0.21 at 128, 0.51 at 192, 0.66 at
# 256, 0.88 at 320, 0.77 at 384, 1.22 at 448, 1.38 at 512 (docs/benchmarks.md, session 10).
EAGER_MAX_SCORES = 384 * 384


def attention_implementation(device_type: str, dtype: torch.dtype,
                             requested: Optional[str] = AUTO, needs_backward: bool = True,
                             scores_per_head: Optional[int] = None) -> str:
    """``'eager'`` or ``'sdpa'`` (or ``requested`` itself when it is not ``'auto'``).

    Eager only where it was measured to win: bfloat16 on a CPU with bf16 units, *and* a
    backward pass will run through the attention (SDPA's bf16 backward is the slow part; its
    bf16 forward is 1.2-3.3x faster than eager at 21-512 tokens, so inference and frozen
    models whose inputs need no gradient keep SDPA), *and* at most ``EAGER_MAX_SCORES`` scores
    per head (``scores_per_head`` = query tokens x key tokens, when the caller knows them)."""
    if requested not in (None, AUTO):
        return requested
    env = os.environ.get('ALLSPARK_ATTENTION', '').strip().lower()
    if env in ('eager', 'sdpa'):
        return env
    if device_type == 'cpu' and dtype in (torch.bfloat16, torch.float16) \
            and bf16_is_fast('cpu') and needs_backward \
            and (scores_per_head is None or scores_per_head <= EAGER_MAX_SCORES):
        return 'eager'
    return 'sdpa'


def backward_will_run(module: torch.nn.Module, *inputs: torch.Tensor) -> bool:
    """Whether autograd will differentiate through ``module`` on this call: gradients are on,
    and an input or one of its parameters requires grad."""
    if not torch.is_grad_enabled():
        return False
    return any(x.requires_grad for x in inputs) or any(p.requires_grad
                                                       for p in module.parameters())


def follow_attention_choice(module: torch.nn.Module, device_type: str,
                            dtype: torch.dtype) -> None:
    """Make the timm attention blocks inside ``module`` (an encoder) use the implementation
    :func:`attention_implementation` picks, through their ``fused_attn`` switch (``True``: SDPA).

    Measured on this project's AVX512-BF16/AMX Xeon, one thread, timm ViT-Ti/16 at 64 px, batch
    16, forward+backward: float32 SDPA 550 ms / eager 727 ms; bfloat16 SDPA 811 ms / eager 569 ms
    (SDPA's CPU backward in bfloat16 is the slow part, as for the language model).  The
    attention modules are found once per module and switched only when the choice changes."""
    blocks = getattr(module, '_allspark_attention_blocks', None)
    if blocks is None:
        blocks = [m for m in module.modules() if isinstance(getattr(m, 'fused_attn', None), bool)]
        module._allspark_attention_blocks = blocks
    if not blocks:
        return
    fused = attention_implementation(device_type, dtype,
                                     needs_backward=backward_will_run(module)) == 'sdpa'
    if getattr(module, '_allspark_fused_attn', None) is not fused:
        for block in blocks:
            block.fused_attn = fused
        module._allspark_fused_attn = fused


def resolve_loop_precision(loop_cfg: Optional[dict], device_type: str) -> Optional[dict]:
    """``val_cfg`` / ``test_cfg`` with ``fp16='auto'`` resolved to a bool (mmengine's loops take
    a bool; on a CPU their autocast means bfloat16)."""
    if not loop_cfg or not isinstance(loop_cfg.get('fp16'), str):
        return loop_cfg
    loop_cfg = dict(loop_cfg)
    loop_cfg['fp16'] = resolve_bf16(loop_cfg['fp16'], device_type)
    return loop_cfg


class CastCachingLinear(torch.nn.Linear):
    """``nn.Linear`` that keeps the low-precision copy of a *frozen* weight between calls.

    Under autocast PyTorch casts a linear layer's float32 weight to bfloat16 at every call, and
    caches the cast only for weights that require grad.  A frozen language model's weights never
    change, yet are cast again at every forward: on this project's AVX512-BF16 Xeon, 16 ms of a
    263 ms bfloat16 quickstart step (``docs/benchmarks.md``).  This layer computes exactly what
    autocast computes (input, weight and bias in the autocast dtype, one ``F.linear``), taking
    the weight and bias from a copy made once and remade when the weight's storage or version
    changes (``load_state_dict`` copies into it, which bumps the version).  Trainable weights,
    and calls outside autocast, take ``nn.Linear.forward`` unchanged.  Same parameters, same
    state dict; the copy is not saved.  ``(*, in_features) -> (*, out_features)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device_type = x.device.type
        if self.weight.requires_grad or device_type not in ('cpu', 'cuda') \
                or not torch.is_autocast_enabled(device_type):
            return super().forward(x)
        dtype = torch.get_autocast_dtype(device_type)
        key = (dtype, self.weight.data_ptr(), self.weight._version,
               None if self.bias is None else (self.bias.data_ptr(), self.bias._version))
        cache = self.__dict__.get('_cast_cache')
        if cache is None or cache[0] != key:
            weight = self.weight.detach().to(dtype)
            bias = None if self.bias is None else self.bias.detach().to(dtype)
            cache = self.__dict__['_cast_cache'] = (key, weight, bias)
        with torch.autocast(device_type, enabled=False):
            return torch.nn.functional.linear(x.to(dtype), cache[1], cache[2])


def cache_frozen_casts(module: torch.nn.Module) -> int:
    """Make every plain ``nn.Linear`` inside ``module`` a :class:`CastCachingLinear` (the class
    only: parameters, hooks and state dict stay); the number switched.  Subclasses of
    ``nn.Linear`` (adapters, quantised layers) are left alone."""
    switched = 0
    for sub in module.modules():
        if type(sub) is torch.nn.Linear:
            sub.__class__ = CastCachingLinear
            switched += 1
    return switched
