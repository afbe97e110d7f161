"""``AllSpark``: modality encoders -> modal bridges -> language model -> task head.

Data flow for a batch ``inputs = {modality: tensor | list[str] | dict}``::

    encoder_m(inputs[m])         (B, n_m, d_m)   [+ padding mask (B, n_m), True = pad]
    bridge_m(...)                (B, N_m, D)
    language model over [prompt ; bridged_m1 ; bridged_m2 ...]   (B, T, D)
    head(features)               loss dict | predictions

Every modality present in a sample goes through its own encoder and bridge and all of them meet
in one sequence (``fusion='joint'``), so modalities attend to each other inside the language
model, not only through language.  ``fusion='separate'`` runs the language model once per
modality instead (dual/multi-encoder retrieval and the all-to-all aligner); ``fusion='direct'``
skips bridge and language model: each modality's encoder tokens are pooled (the encoder's
``pool`` if it has one, else a masked mean) for an alignment head (UniGeoCLIP's path).

Missing modalities: ``inputs['modality_mask'] = {m: (B,) bool}`` (True = the sample has ``m``;
written by ``allspark.collate`` when some samples of a batch lack ``m``, where ``inputs[m]``
holds placeholders).  Encoders and bridges then run on the samples that have ``m`` only; in the
joint sequence the missing modality's tokens are masked out of attention; every features dict
carries ``present``.  ``modality_dropout={m: p}`` drops ``m`` from each training sample with
probability ``p`` the same way (never a sample's last modality).
"""
from __future__ import annotations

import copy
import numbers
from typing import Any, Optional, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import nn

from allspark.datasets.base import MODALITY_MASK_KEY  # the presence mask
from allspark.engine.precision import cache_frozen_casts, follow_attention_choice
from allspark.models.checkpointing import enable_encoder_grad_checkpointing
from allspark.models.protocols import (
    BindsLanguageModel,
    Bridge,
    Encoder,
    Head,
    PoolingEncoder,
    TakesTargetStats,
    check_component,
)
from allspark.registry import BRIDGES, ENCODERS, HEADS, LANGUAGE_MODELS, MODELS, PROMPTS

TOKEN_ORDERS = ('prompt_first', 'bridged_first')
FUSIONS = ('joint', 'separate', 'direct')


def take_rows(x: Any, rows: torch.Tensor) -> Any:
    """Rows ``rows`` of a batched input: a tensor, a list (e.g. of strings) or a dict of them."""
    if isinstance(x, torch.Tensor):
        return x[rows.to(x.device)]
    if isinstance(x, dict):
        return {k: take_rows(v, rows) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [x[i] for i in rows.tolist()]
    raise TypeError(f'cannot select rows of a batched input of type {type(x).__name__}')


def scatter_rows(values: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
    """Put ``values (n, ...)`` at ``rows`` of a zero tensor ``(batch, ...)``."""
    out = values.new_zeros((batch,) + tuple(values.shape[1:]))
    out[rows.to(values.device)] = values
    return out


def _fill_dim(cfg: dict, key: str, value: int, component: str, other: str) -> dict:
    """Fill ``cfg[key]`` with ``value``; a conflicting explicit value is a build-time error."""
    cfg = copy.deepcopy(cfg)
    given = cfg.get(key)
    if given is not None and int(given) != int(value):
        raise ValueError(f'{component}: {key}={given} does not match {other} ({value}). '
                         f'Leave {key} unset to have it filled in.')
    cfg[key] = value
    return cfg


@MODELS.register_module()
class AllSpark(BaseModel):
    """Args:
        modalities: ``{name: dict(encoder=cfg, bridge=cfg)}``; the bridge defaults to a
            ``PerceiverBridge``.  ``grad_checkpointing=True`` in an encoder's config recomputes
            its activations in the backward pass (``allspark.models.checkpointing``).  The
            bridge's ``in_dim``/``out_dim`` and the head's ``in_dim`` are filled in from the
            encoder's ``out_dim`` and the language model's width.
        language_model: config of an ``HFLanguageModel`` (default: the embedded MiniLM).
        head: config of a task head.
        prompts: ``{modality: [prompt, ...]}`` or a ``PromptBank`` config; modalities not listed
            use the prompts their plugin registered (``register_prompts``); ``[]`` means none.
        fusion: ``'joint'`` (one sequence), ``'separate'`` (one language-model pass per modality)
            or ``'direct'`` (pooled encoder tokens per modality, no bridge or language model).
        modality_dropout: ``{modality: p}``: in training, drop the modality from each sample
            with probability ``p`` (its tokens are masked out), never a sample's last modality.
        token_order: ``'prompt_first'`` (the paper's ``[prompt ; bridged]``) or ``'bridged_first'``.
    """

    def __init__(self, modalities: dict, head: dict,
                 language_model: Optional[dict] = None, prompts: Optional[dict] = None,
                 fusion: str = 'joint', token_order: str = 'prompt_first',
                 modality_dropout: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='AllSparkDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # built here: mmengine's root registry would
            data_preprocessor = MODELS.build(data_preprocessor)  # miss it outside a Runner
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if fusion not in FUSIONS:
            raise ValueError(f'AllSpark: fusion must be one of {FUSIONS}, got {fusion!r}')
        if token_order not in TOKEN_ORDERS:
            raise ValueError(f'AllSpark: token_order must be one of {TOKEN_ORDERS}, '
                             f'got {token_order!r}')
        if not modalities:
            raise ValueError('AllSpark: configure at least one modality')
        self.fusion, self.token_order = fusion, token_order
        self.modality_dropout = {m: float(p) for m, p in (modality_dropout or {}).items()}
        unknown = [m for m in self.modality_dropout if m not in modalities]
        bad = {m: p for m, p in self.modality_dropout.items() if not 0.0 <= p < 1.0}
        if unknown or bad:
            raise ValueError(f'AllSpark: modality_dropout must map configured modalities '
                             f'{list(modalities)} to probabilities in [0, 1); got unknown '
                             f'{unknown}, out of range {bad}')

        self.language_model = LANGUAGE_MODELS.build(
            language_model or dict(type='HFLanguageModel'))
        width = self.language_model.hidden_size

        self.encoders, self.bridges = nn.ModuleDict(), nn.ModuleDict()
        for name, mcfg in modalities.items():
            if 'encoder' not in mcfg:
                raise KeyError(f'AllSpark: modality {name!r} has no encoder config')
            encoder_cfg = dict(mcfg['encoder'])
            grad_checkpointing = bool(encoder_cfg.pop('grad_checkpointing', False))
            encoder = ENCODERS.build(encoder_cfg)
            check_component(encoder, Encoder, f'encoder of modality {name!r}')
            if grad_checkpointing:  # allspark/models/checkpointing.py
                enable_encoder_grad_checkpointing(encoder, f'encoder of modality {name!r}')
            if isinstance(encoder, BindsLanguageModel):
                encoder.bind_language_model(self.language_model)
            out_dim = encoder.out_dim
            if isinstance(out_dim, bool) or not isinstance(out_dim, numbers.Integral) \
                    or out_dim <= 0:
                raise TypeError(f'encoder {type(encoder).__name__} (modality {name!r}): out_dim '
                                f'must be a positive int, the width of its tokens; got '
                                f'{out_dim!r}')
            bridge_cfg = mcfg.get('bridge') or dict(type='PerceiverBridge')
            bridge_cfg = _fill_dim(bridge_cfg, 'in_dim', out_dim, f'bridge of {name!r}',
                                   f'the output width of encoder {type(encoder).__name__}')
            bridge_cfg = _fill_dim(bridge_cfg, 'out_dim', width, f'bridge of {name!r}',
                                   f'the width of language model '
                                   f'{self.language_model.name_or_path}')
            bridge = BRIDGES.build(bridge_cfg)
            check_component(bridge, Bridge, f'bridge of modality {name!r}')
            self.encoders[name], self.bridges[name] = encoder, bridge

        if prompts is None or 'type' not in prompts:
            prompts = dict(type='PromptBank', prompts=prompts)
        self.prompt_bank = PROMPTS.build(prompts)
        self._prompt_ids: dict[str, torch.Tensor] = {}
        head = _fill_dim(head, 'in_dim', width, f'head {head.get("type")}',
                         'the width of the language model')
        if fusion == 'direct':  # the head reads each encoder's own width
            head['in_dims'] = {m: int(e.out_dim) for m, e in self.encoders.items()}
        self.head = HEADS.build(head)
        check_component(self.head, Head, 'head')
        if isinstance(self.head, BindsLanguageModel):  # e.g. heads that decode with the LM
            self.head.bind_language_model(self.language_model)
        self._check_batch_augments()
        # frozen weights (the language model, frozen encoders) are cast to bfloat16 once under
        # autocast, not at every call (allspark/engine/precision.py)
        cache_frozen_casts(self)

    def _check_batch_augments(self) -> None:
        """A batch augment that mixes labels (``Mixup``) needs a head with a mixed-label loss:
        refuse the pair when the model is built, not at the first training step."""
        head = type(self.head).__name__
        for augment in getattr(self.data_preprocessor, 'batch_augments', None) or []:
            if getattr(augment, 'mixes_labels', False) and not self.head.supports_mixup:
                raise ValueError(
                    f'AllSpark: the data preprocessor has a {type(augment).__name__} batch '
                    f'augment, which mixes labels, but head {head} has no mixed-label loss '
                    f'(supports_mixup=False); remove the augment from '
                    f'model.data_preprocessor.batch_augments or use a head that supports it, '
                    f'e.g. LinearClsHead')

    # ------------------------------------------------------------------ features
    def _prompt_embeds(self, prompt: str, batch: int, device) -> torch.Tensor:
        if prompt not in self._prompt_ids:
            self._prompt_ids[prompt] = self.language_model.tokenize([prompt])['input_ids']
        ids = self._prompt_ids[prompt].to(device)
        return self.language_model.embed_ids(ids).expand(batch, -1, -1)

    def _split_presence(self, inputs: dict) -> tuple[dict, dict[str, torch.Tensor]]:
        """Inputs without the reserved ``modality_mask`` key, and that mask ``{m: (B,) bool}``."""
        unknown = [m for m in inputs if m not in self.encoders and m != MODALITY_MASK_KEY]
        if unknown:
            raise KeyError(f'AllSpark: inputs {unknown} have no configured modality '
                           f'(configured: {list(self.encoders)})')
        if MODALITY_MASK_KEY not in inputs:
            return inputs, {}
        inputs = dict(inputs)
        mask = inputs.pop(MODALITY_MASK_KEY) or {}
        extra = [m for m in mask if m not in inputs]
        if extra:
            raise KeyError(f'AllSpark: {MODALITY_MASK_KEY} names {extra}, which the batch has no '
                           f'input for (inputs: {list(inputs)})')
        return inputs, {m: torch.as_tensor(v).bool().reshape(-1) for m, v in mask.items()}

    @staticmethod
    def _rows(presence: dict, name: str) -> Optional[torch.Tensor]:
        """Indices of the samples that have ``name``; ``None`` when every sample has it."""
        rows = presence.get(name)
        if rows is None or bool(rows.all()):
            return None
        return rows.nonzero()[:, 0]

    def _encode_tokens(self, name: str, x: Any) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        encoder = self.encoders[name]
        param = next(encoder.parameters(), None)
        device = param.device if param is not None else torch.device('cpu')
        dtype = (torch.get_autocast_dtype(device.type)
                 if device.type in ('cpu', 'cuda') and torch.is_autocast_enabled(device.type)
                 else torch.float32)
        follow_attention_choice(encoder, device.type, dtype)  # eager under bf16 on a CPU
        out = encoder(x)
        tokens, pad = out if isinstance(out, tuple) else (out, None)
        if tokens.dim() != 3 or tokens.shape[-1] != encoder.out_dim:
            raise ValueError(f'encoder {type(encoder).__name__} (modality {name!r}) returned '
                             f'{tuple(tokens.shape)}, expected (B, n, {encoder.out_dim})')
        return tokens, pad

    def _encode(self, inputs: dict) -> tuple[dict, dict[str, torch.Tensor]]:
        """Encoder + bridge per modality, on the samples that have it; bridged tokens of the
        others are zeros marked as padding.  -> (``{m: (tokens, pad)}``, ``{m: (B,) bool}``)."""
        inputs, presence = self._split_presence(inputs)
        bridged, present = {}, {}
        for name in self.encoders:
            if name not in inputs:
                continue
            rows = self._rows(presence, name)
            if rows is not None and rows.numel() == 0:
                continue  # no sample of this batch has the modality
            x = inputs[name] if rows is None else take_rows(inputs[name], rows)
            tokens, pad = self.bridges[name](*self._encode_tokens(name, x))
            valid = (torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
                     if pad is None else ~pad.bool())
            if rows is not None:
                batch = presence[name].numel()
                tokens, valid = scatter_rows(tokens, rows, batch), scatter_rows(valid, rows, batch)
                pad = ~valid
            bridged[name] = (tokens, pad)
            present[name] = (presence[name].to(tokens.device) if rows is not None else
                             torch.ones(tokens.shape[0], dtype=torch.bool, device=tokens.device))
        if not bridged:
            raise ValueError(f'AllSpark: the batch has none of the configured modalities '
                             f'{list(self.encoders)}')
        return bridged, present

    def encode(self, inputs: dict) -> dict[str, tuple[torch.Tensor, Optional[torch.Tensor]]]:
        """Encoder + bridge per modality present: ``{m: (bridged (B, N_m, D), pad mask)}``."""
        return self._encode(inputs)[0]

    def _language(self, names: list[str], bridged: dict) -> dict:
        """Build ``[prompt ; bridged ...]`` (or the other order) and run the language model."""
        first = bridged[names[0]][0]
        batch, device = first.shape[0], first.device
        pieces: list[tuple[str, torch.Tensor, torch.Tensor]] = []
        for name in names:
            tokens, pad = bridged[name]
            valid = (torch.ones(tokens.shape[:2], dtype=torch.bool, device=device)
                     if pad is None else ~pad.bool())
            pieces.append((name, tokens, valid))
        prompt = self.prompt_bank.select(names, self.training) if self.prompt_bank else ''
        if prompt:
            embeds = self._prompt_embeds(prompt, batch, device).to(first.dtype)
            item = ('prompt', embeds, torch.ones(embeds.shape[:2], dtype=torch.bool,
                                                 device=device))
            pieces = [item] + pieces if self.token_order == 'prompt_first' else pieces + [item]
        segments, start = {}, 0
        for name, tokens, _ in pieces:
            segments[name] = (start, start + tokens.shape[1])
            start += tokens.shape[1]
        seq = torch.cat([p[1] for p in pieces], dim=1)
        mask = torch.cat([p[2] for p in pieces], dim=1)
        out = self.language_model(inputs_embeds=seq, attention_mask=mask.long())
        return dict(tokens=out, mask=mask, segments=segments, embeds=seq)

    def _direct_features(self, inputs: dict) -> dict:
        """``fusion='direct'``: ``{m: dict(pooled=(B, d_m), present=(B,))}``, no bridge, no LM."""
        inputs, presence = self._split_presence(inputs)
        out = {}
        for name, encoder in self.encoders.items():
            if name not in inputs:
                continue
            rows = self._rows(presence, name)
            if rows is not None and rows.numel() == 0:
                continue
            x = inputs[name] if rows is None else take_rows(inputs[name], rows)
            tokens, pad = self._encode_tokens(name, x)
            if isinstance(encoder, PoolingEncoder):
                pooled = encoder.pool(tokens)
            else:
                valid = (torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
                         if pad is None else ~pad.bool())
                weights = valid.to(tokens.dtype).unsqueeze(-1)
                pooled = (tokens * weights).sum(1) / weights.sum(1).clamp_min(1.0)
            if rows is None:
                present = torch.ones(pooled.shape[0], dtype=torch.bool, device=pooled.device)
            else:
                present = presence[name].to(pooled.device)
                pooled = scatter_rows(pooled, rows, present.numel())
            out[name] = dict(pooled=pooled, present=present)
        if not out:
            raise ValueError(f'AllSpark: the batch has none of the configured modalities '
                             f'{list(self.encoders)}')
        return out

    def extract_features(self, inputs: dict) -> dict:
        if self.fusion == 'direct':
            return self._direct_features(inputs)
        bridged, present = self._encode(inputs)
        names = list(bridged)
        if self.fusion == 'joint':
            return dict(self._language(names, bridged), present=present)
        out = {}
        for name in names:
            rows = present[name]
            if bool(rows.all()):
                feats = self._language([name], bridged)
            else:  # the language model runs on the samples that have the modality only
                idx, batch = rows.nonzero()[:, 0], rows.numel()
                tokens, pad = bridged[name]
                feats = self._language([name], {name: (tokens[idx], pad[idx])})
                feats = dict(feats, **{k: scatter_rows(feats[k], idx, batch)
                                       for k in ('tokens', 'mask', 'embeds')})
            out[name] = dict(feats, present=rows)
        return out

    def _batch_size(self, inputs: dict) -> int:
        for name in self.encoders:
            x = inputs.get(name)
            while isinstance(x, dict):
                x = next(iter(x.values()))
            if x is not None:
                return int(x.shape[0]) if isinstance(x, torch.Tensor) else len(x)
        raise ValueError('AllSpark: the batch has none of the configured modalities')

    def drop_modalities(self, inputs: dict) -> dict:
        """Modality dropout (training): mark each configured modality absent from each sample
        with its probability, never a sample's last remaining modality."""
        names = [m for m in self.encoders if m in inputs]
        batch = self._batch_size(inputs)
        given = inputs.get(MODALITY_MASK_KEY) or {}
        present = {m: (torch.as_tensor(given[m]).bool().clone() if m in given
                       else torch.ones(batch, dtype=torch.bool)) for m in names}
        for name, p in self.modality_dropout.items():
            if name not in present or p <= 0:
                continue
            others = sum(present[m].long().cpu() for m in names if m != name) \
                if len(names) > 1 else torch.zeros(batch, dtype=torch.long)
            drop = (torch.rand(batch) < p) & (others > 0)
            present[name] = present[name] & ~drop.to(present[name].device)
        return dict(inputs, **{MODALITY_MASK_KEY: present})

    # ------------------------------------------------------------------ BaseModel API
    def forward(self, inputs: dict, data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[dict, list]:
        if self.training and self.modality_dropout:
            inputs = self.drop_modalities(inputs)
        features = self.extract_features(inputs)
        if mode == 'tensor':
            return features
        if data_samples is None:
            raise ValueError(f"AllSpark: mode={mode!r} needs data_samples")
        if mode == 'loss':
            mixed = bool(data_samples) and 'mix_lam' in data_samples[0]
            if mixed and not self.head.supports_mixup:
                raise ValueError(f'AllSpark: the batch was mixed (a Mixup batch augment in the '
                                 f'data preprocessor) but head {type(self.head).__name__} has no '
                                 f'mixed-label loss (supports_mixup=False); remove the augment '
                                 f'or use a head that supports it, e.g. LinearClsHead')
            return self.head.loss(features, data_samples)
        if mode == 'predict':
            return self.head.predict(features, data_samples)
        raise ValueError(f"AllSpark: mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    def parse_losses(self, losses: dict) -> tuple[torch.Tensor, dict]:
        loss, log_vars = super().parse_losses(losses)
        if not torch.isfinite(loss):
            hub = MessageHub.get_current_instance()
            it = hub.get_info('iter')
            where = f'iteration {it + 1}' if it is not None else 'this iteration'
            from allspark.engine.health import checkpoint_status
            raise FloatingPointError(
                f'Loss became {loss.item()} at {where} (terms: '
                f'{ {k: float(v) for k, v in log_vars.items()} }). Training stopped before the '
                f'update; {checkpoint_status()}; lower the learning rate or check the inputs '
                f'for NaN/inf.')
        return loss, log_vars

    def apply_dataset_stats(self, stats: Optional[dict]) -> None:
        """Copy training-split statistics into buffers (saved with the checkpoint).

        ``stats = {'inputs': {modality: {'mean', 'std'}}, 'target': {'mean', 'std'}}``."""
        if not stats:
            return
        for modality, s in (stats.get('inputs') or {}).items():
            if hasattr(self.data_preprocessor, 'set_input_stats'):
                self.data_preprocessor.set_input_stats(modality, s['mean'], s['std'])
        target = stats.get('target')
        if target is not None:
            if not isinstance(self.head, TakesTargetStats):
                raise TypeError(f'{type(self.head).__name__} takes no target statistics (it has '
                                f'no set_target_stats, see allspark.models.protocols)')
            self.head.set_target_stats(target['mean'], target['std'])
