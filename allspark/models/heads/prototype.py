"""Prototype heads: classes as points in the language model's output space.

* ``PrototypeHead``: ProtoNet (Snell et al., NeurIPS 2017), trained episodically.  A batch is one
  episode (``EpisodicSampler``): per class, the first ``shot`` samples of the batch are the
  support set and the rest are queries; the loss is the cross-entropy of the queries over
  ``-||q - p_c||^2`` (or scaled cosine), ``p_c`` the mean support embedding of class ``c``.
* ``TextPrototypeHead``: the classifier of each class is its **name passed through the language
  model** after the modality's prompt (:func:`encode_class_texts`), so a model trained with it on
  some classes has a classifier for any class name, with no training step (zero-shot).

Both read the pooled language-model output like every head (``source``, ``norm``; see
:mod:`allspark.models.heads.base`).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from allspark.models.heads.base import BaseHead, stack_field
from allspark.registry import HEADS

METRICS = ('euclidean', 'cosine')


def encode_class_texts(language_model: nn.Module, texts: Sequence[str], prompt: str = '',
                       token_order: str = 'prompt_first') -> torch.Tensor:
    """Class names -> ``(C, D)``: each text goes through the language model where a modality's
    bridged tokens would be (``[prompt ; text]`` as ``AllSpark`` builds ``[prompt ; bridged]``),
    and the outputs at the text's own tokens are averaged, as heads average the bridged tokens.

    The prompt is tokenised as a whole (with the tokenizer's special tokens, exactly like
    ``AllSpark._prompt_embeds``); the text's word pieces come without special tokens."""
    if not texts:
        raise ValueError('encode_class_texts: no class texts given')
    tokenizer = language_model.tokenizer
    if tokenizer is None:
        raise RuntimeError(f'{language_model.name_or_path}: no tokenizer, cannot encode class '
                           f'names')
    device = language_model.input_embeddings().weight.device
    pieces = [tokenizer(str(t), add_special_tokens=False)['input_ids'] for t in texts]
    empty = [t for t, p in zip(texts, pieces) if not p]
    if empty:
        raise ValueError(f'encode_class_texts: texts {empty} tokenise to nothing')
    width = max(len(p) for p in pieces)
    pad_id = tokenizer.pad_token_id or 0
    ids = torch.full((len(texts), width), pad_id, dtype=torch.long, device=device)
    text_mask = torch.zeros(len(texts), width, dtype=torch.bool, device=device)
    for i, p in enumerate(pieces):
        ids[i, :len(p)] = torch.as_tensor(p, device=device)
        text_mask[i, :len(p)] = True
    seq = language_model.embed_ids(ids)
    mask = text_mask
    start = 0
    if prompt:
        prompt_ids = language_model.tokenize([prompt])['input_ids'].to(device)
        prompt_embeds = language_model.embed_ids(prompt_ids).expand(len(texts), -1, -1)
        prompt_mask = torch.ones(prompt_embeds.shape[:2], dtype=torch.bool, device=device)
        if token_order == 'prompt_first':
            seq, mask = torch.cat([prompt_embeds, seq], 1), torch.cat([prompt_mask, mask], 1)
            start = prompt_embeds.shape[1]
        else:
            seq, mask = torch.cat([seq, prompt_embeds], 1), torch.cat([mask, prompt_mask], 1)
    out = language_model(inputs_embeds=seq, attention_mask=mask.long())
    own = out[:, start:start + width]
    weights = text_mask.to(own.dtype).unsqueeze(-1)
    return (own * weights).sum(1) / weights.sum(1)


def default_prompt(modality: Optional[str]) -> str:
    """The evaluation prompt a modality's plugin registered ('' if none)."""
    from allspark.models.prompts import PromptBank

    return PromptBank().select([modality], training=False) if modality else ''


def prototype_logits(queries: torch.Tensor, prototypes: torch.Tensor, metric: str = 'euclidean',
                     scale: float = 1.0) -> torch.Tensor:
    """``(..., Q, D)`` queries x ``(..., C, D)`` prototypes -> ``(..., Q, C)`` logits:
    ``-||q - p||^2`` (euclidean) or ``scale * cos(q, p)`` (cosine)."""
    if metric == 'euclidean':
        return -torch.cdist(queries, prototypes).pow(2)
    if metric == 'cosine':
        return scale * F.normalize(queries, dim=-1) @ F.normalize(prototypes, dim=-1).transpose(
            -1, -2)
    raise ValueError(f'metric must be one of {METRICS}, got {metric!r}')


def split_episode(labels: torch.Tensor, shot: int) -> tuple[list, torch.Tensor, torch.Tensor]:
    """Split a batch into support and query by label: per class (in order of first appearance)
    its first ``shot`` samples are support, the rest queries.

    Returns ``(classes, support (C, shot), (query (Q,), targets (Q,)))``: batch indices, and the
    queries' classes as episode ids ``0..C-1`` (the position of their label in ``classes``)."""
    classes = list(dict.fromkeys(labels.tolist()))
    support, queries, targets = [], [], []
    for c, label in enumerate(classes):
        idx = (labels == label).nonzero().flatten()
        if len(idx) <= shot:
            raise ValueError(f'episode batch: class {label} has {len(idx)} samples, needs more '
                             f'than shot={shot} (shot support + at least one query); is the '
                             f'dataloader an EpisodicSampler with batch_size = '
                             f'way * (shot + query)?')
        support.append(idx[:shot])
        queries.append(idx[shot:])
        targets.append(torch.full((len(idx) - shot,), c, dtype=torch.long))
    return classes, torch.stack(support), (torch.cat(queries), torch.cat(targets))


@HEADS.register_module()
class PrototypeHead(BaseHead):
    """ProtoNet head: the prototype loss over one episode per batch.

    Args:
        in_dim: width of the features read (filled in from the language model).
        shot: support samples per class in each training episode (the sampler's ``shot``).
        metric: ``'euclidean'`` (squared distance, as in ProtoNet) or ``'cosine'``.
        scale: logit scale of the cosine metric.
        source, norm: what is read (see ``BaseHead``).

    ``loss`` needs episode batches; ``predict`` classifies against prototypes set with
    :meth:`set_prototypes` (few-shot evaluation uses ``allspark fewshot``).
    """

    def __init__(self, in_dim: int, shot: int = 1, metric: str = 'euclidean', scale: float = 10.0,
                 source: str = 'bridged', norm: str = 'none'):
        super().__init__(in_dim, source, norm)
        if metric not in METRICS:
            raise ValueError(f'PrototypeHead: metric must be one of {METRICS}, got {metric!r}')
        if shot < 1:
            raise ValueError(f'PrototypeHead: shot must be >= 1, got {shot}')
        self.shot, self.metric, self.scale = int(shot), metric, float(scale)
        self.prototypes: Optional[torch.Tensor] = None

    def embed(self, features: dict) -> torch.Tensor:
        """The embedding prototypes are computed in: ``(B, D)``."""
        return self.read(features)

    def logits(self, queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        return prototype_logits(queries, prototypes, self.metric, self.scale)

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        emb = self.embed(features)
        labels = stack_field(data_samples, 'gt_label', 'cpu', torch.long)
        _, support, (query, target) = split_episode(labels, self.shot)
        support, query = support.to(emb.device), query.to(emb.device)
        prototypes = emb[support].mean(1)  # (C, D)
        logits = self.logits(emb[query], prototypes)
        target = target.to(emb.device)
        acc = (logits.argmax(-1) == target).float().mean()
        return dict(loss_proto=F.cross_entropy(logits, target), acc=acc.detach())

    def set_prototypes(self, prototypes: torch.Tensor) -> None:
        """Prototypes ``(C, D)`` that ``predict`` classifies against."""
        self.prototypes = prototypes

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        if self.prototypes is None:
            raise RuntimeError('PrototypeHead.predict: no prototypes set (set_prototypes); a '
                               'ProtoNet is evaluated on episodes with `allspark fewshot`')
        emb = self.embed(features)
        scores = self.logits(emb, self.prototypes.to(emb.device, emb.dtype)).softmax(-1)
        out = []
        for sample, score in zip(data_samples, scores):
            result = dict(sample)
            result.update(pred_score=score.cpu(), pred_label=score.argmax(-1).cpu())
            out.append(result)
        return out


@HEADS.register_module()
class TextPrototypeHead(BaseHead):
    """Classify against class names encoded by the language model (CLIP-style, the language
    model is the reference frame): ``logits = s * cos(x, t_c - t_mean)``, ``x`` the features read
    (standardised by ``norm``), ``t_c`` :func:`encode_class_texts` of class ``c``'s text after the
    modality's evaluation prompt, ``t_mean`` the mean over this head's classes (what every class
    name shares), ``s`` a learnt scale.

    Args:
        class_texts: one text per class, in label order (e.g. ``'golf course'``).
        modality: whose registered evaluation prompt precedes the names (``prompt`` overrides).
        prompt: the prompt text; ``None``: the modality's, ``''``: none.
        init_scale: initial logit scale (learnt, kept in ``[1, 100]``).
        label_smoothing, source, norm: as in ``LinearClsHead``.

    A frozen language model's text features are computed once (per device) and cached; with a
    trainable language model they are recomputed every forward pass.
    """

    def __init__(self, in_dim: int, class_texts: Sequence[str], modality: Optional[str] = None,
                 prompt: Optional[str] = None, init_scale: float = 10.0,
                 label_smoothing: float = 0.0, source: str = 'bridged', norm: str = 'batch',
                 token_order: str = 'prompt_first'):
        super().__init__(in_dim, source, norm)
        if not class_texts:
            raise ValueError('TextPrototypeHead: class_texts is empty')
        self.class_texts, self.modality = [str(t) for t in class_texts], modality
        self._prompt, self.token_order = prompt, token_order
        self.num_classes = len(self.class_texts)
        self.label_smoothing = label_smoothing
        self.log_scale = nn.Parameter(torch.tensor(float(init_scale)).log())
        self._language_model: Optional[nn.Module] = None
        self._cache: Optional[torch.Tensor] = None

    @property
    def prompt(self) -> str:
        return default_prompt(self.modality) if self._prompt is None else self._prompt

    def bind_language_model(self, language_model: nn.Module) -> None:
        # not a submodule: the model owns (and saves) the language model once
        self.__dict__['_language_model'] = language_model

    def text_features(self) -> torch.Tensor:
        """``(C, D)`` class-text features, centred on their mean (not normalised)."""
        lm = self._language_model
        if lm is None:
            raise RuntimeError('TextPrototypeHead: no language model bound (build it inside '
                               'AllSpark, which calls bind_language_model)')
        frozen = getattr(lm, 'frozen', False) and not any(
            p.requires_grad for p in lm.parameters())
        device = lm.input_embeddings().weight.device
        if frozen and self._cache is not None and self._cache.device == device:
            return self._cache
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
            texts = encode_class_texts(lm, self.class_texts, self.prompt, self.token_order)
        texts = texts - texts.mean(0, keepdim=True)
        if frozen:
            self._cache = texts.detach()
        return texts

    def forward(self, features: dict) -> torch.Tensor:
        x = self.read(features)
        texts = self.text_features().to(x.dtype)
        scale = self.log_scale.exp().clamp(1.0, 100.0)
        return scale * F.normalize(x, dim=-1) @ F.normalize(texts, dim=-1).T

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        logits = self(features)
        target = stack_field(data_samples, 'gt_label', logits.device, torch.long)
        if target.numel() and int(target.max()) >= self.num_classes:
            raise ValueError(f'TextPrototypeHead: gt_label {int(target.max())} >= the '
                             f'{self.num_classes} class_texts')
        loss = F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)
        acc = (logits.argmax(-1) == target).float().mean()
        return dict(loss_cls=loss, acc=acc.detach())

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        scores = self(features).softmax(-1)
        out = []
        for sample, score in zip(data_samples, scores):
            result = dict(sample)
            result.update(pred_score=score.cpu(), pred_label=score.argmax(-1).cpu())
            out.append(result)
        return out
