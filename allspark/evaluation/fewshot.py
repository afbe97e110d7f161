"""Training-free few-shot evaluation on episodes (``allspark fewshot``).

An *episode* draws ``way`` novel classes, then per class ``query`` query samples and ``shot``
support samples, all distinct.  Every method classifies the same queries of the same episodes:

=====================  ========================================================================
``encoder_proto``      nearest prototype (mean support feature) on the encoder's pooled tokens
``language_proto``     nearest prototype on the language model's pooled output after the
                       modality's prompt (as the model's head reads it)
``text_zero_shot``     prototypes = each class name through the language model after the same
                       prompt (:func:`~allspark.models.heads.prototype.encode_class_texts`);
                       no support set
``tip_adapter``        Tip-Adapter-style fusion of the two: ``cos(q, t_c) + alpha * mean_s
                       exp(-beta (1 - cos(q, s)))`` over class ``c``'s support ``s``; ``alpha``
                       and ``beta`` chosen on episodes of the **base** classes only
``linear_probe``       multinomial logistic regression fitted on the support set (language
                       features; ``linear_probe_encoder``: encoder features); ``C`` chosen on
                       base episodes
``protonet``           nearest prototype in the embedding of an episodically trained ProtoNet
                       (``PrototypeHead``), with the metric it was trained with
=====================  ========================================================================

Features are computed once per sample (:func:`extract_features`) and every method then works
on all episodes at once (tensors ``(E, W, S, D)``).  Before the prototype / probe / fusion
methods, features are centred on the mean feature of the **base** classes and L2-normalised
(SimpleShot's CL2N; text prototypes are centred on the mean of the base class names), which
uses no novel-class data.

Episodes: :func:`sample_episodes` draws, per episode, the classes and one permutation of each
class's samples; the first ``query`` are the queries and the next ``shot`` the support set.  So
the same ``seed`` gives the same episodes, queries are never in the support set, every shot
uses the same queries (and the 1-shot support is the first image of the 5-shot support), and
adding a shot to ``--shot`` does not change the other shots' episodes.

The 95 % interval is the usual one of few-shot papers: ``1.96 * std / sqrt(episodes)`` (sample
standard deviation of the per-episode accuracies; normal approximation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from allspark.models.heads.prototype import encode_class_texts, prototype_logits

METHODS = ('encoder_proto', 'language_proto', 'text_zero_shot', 'tip_adapter', 'linear_probe',
           'linear_probe_encoder', 'protonet')
METHOD_LABELS = {
    'encoder_proto': '(1) nearest prototype, encoder pooled tokens',
    'language_proto': '(2) nearest prototype, language-model output after the prompt',
    'text_zero_shot': '(3) text prototypes (class names through the LM; zero-shot)',
    'tip_adapter': '(4) Tip-Adapter fusion of (2) + (3), weights chosen on base classes',
    'linear_probe': '(5) linear probe (logistic regression) on (2)\'s features',
    'linear_probe_encoder': '(5b) linear probe on (1)\'s features',
    'protonet': '(6) ProtoNet trained episodically on the base classes',
}
#: Tip-Adapter grid (alpha: weight of the support cache, beta: its sharpness).
ALPHAS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 100.0)
BETAS = (0.5, 1.0, 2.0, 5.0, 10.0)
#: inverse L2 strengths of the linear probe (scikit-learn's ``C``).
PROBE_CS = (0.1, 1.0, 10.0, 100.0)


# ----------------------------------------------------------------------------- episodes
@dataclass
class Episodes:
    """Indices into the sample list: ``classes (E, W)`` class ids, ``query (E, W, Q)`` and
    ``support_pool (E, W, max_shot)``; shot ``s`` uses ``support_pool[..., :s]``."""

    classes: np.ndarray
    query: np.ndarray
    support_pool: np.ndarray

    def support(self, shot: int) -> np.ndarray:
        if shot > self.support_pool.shape[-1]:
            raise ValueError(f'episodes were drawn for up to {self.support_pool.shape[-1]} '
                             f'shots, not {shot}')
        return self.support_pool[..., :shot]

    def __len__(self) -> int:
        return len(self.classes)


def sample_episodes(labels: Sequence[int], classes: Sequence[int], way: int,
                    shots: Sequence[int], query: int, episodes: int, seed: int) -> Episodes:
    """Draw ``episodes`` episodes over ``classes`` (class ids present in ``labels``).

    Deterministic in ``seed``; the draw per episode does not depend on ``shots`` beyond its
    maximum (see the module docstring).  A class with fewer than ``query + max(shots)`` samples
    is an error naming it."""
    labels = np.asarray(labels, dtype=np.int64)
    classes = [int(c) for c in classes]
    max_shot = max(int(s) for s in shots)
    if way < 2:
        raise ValueError(f'way must be >= 2, got {way}')
    if len(classes) < way:
        raise ValueError(f'{way}-way episodes need {way} classes, only {len(classes)} given '
                         f'({classes})')
    if min(shots) < 1 or query < 1 or episodes < 1:
        raise ValueError(f'shots, query and episodes must be >= 1 (got {list(shots)}, {query}, '
                         f'{episodes})')
    pools = {c: np.flatnonzero(labels == c) for c in classes}
    small = {c: len(p) for c, p in pools.items() if len(p) < query + max_shot}
    if small:
        raise ValueError(f'classes {small} (class id: samples) have fewer than query + shot = '
                         f'{query} + {max_shot} samples')
    rng = np.random.default_rng(seed)
    cls = np.empty((episodes, way), np.int64)
    qry = np.empty((episodes, way, query), np.int64)
    sup = np.empty((episodes, way, max_shot), np.int64)
    for e in range(episodes):
        cls[e] = rng.choice(classes, way, replace=False)
        for w, c in enumerate(cls[e]):
            order = rng.permutation(pools[int(c)])
            qry[e, w] = order[:query]
            sup[e, w] = order[query:query + max_shot]
    return Episodes(cls, qry, sup)


def mean_confidence_interval(values: Sequence[float], confidence: float = 0.95
                             ) -> tuple[float, float]:
    """``(mean, half-width)``: half-width = ``z * std / sqrt(n)`` with the sample standard
    deviation (``ddof=1``) and ``z`` the normal quantile (1.96 for 95 %); ``nan`` for n < 2."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else float('nan')
    if values.size < 2:
        return mean, float('nan')
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return mean, float(z * values.std(ddof=1) / math.sqrt(values.size))


# ----------------------------------------------------------------------------- features
def _pooled(tokens: torch.Tensor, pad: Optional[torch.Tensor]) -> torch.Tensor:
    if pad is None:
        return tokens.mean(1)
    keep = (~pad.bool()).to(tokens.dtype).unsqueeze(-1)
    return (tokens * keep).sum(1) / keep.sum(1).clamp_min(1.0)


@torch.no_grad()
def extract_features(model, dataset, modality: str, batch_size: int = 32,
                     log=None) -> dict[str, torch.Tensor]:
    """One pass over ``dataset`` (no shuffling, the dataset's own pipeline) with an ``AllSpark``
    model in eval mode -> ``{'encoder': (N, d), 'language': (N, D)[, 'embedding': (N, D')]}``.

    ``encoder``: the encoder's tokens averaged (padding excluded); ``language``: the language
    model's output over ``[prompt ; bridged tokens]`` read as the model's head reads it
    (``head.read``: its ``source`` and ``norm``; the modality's bridged tokens averaged when the
    head reads per-token outputs); ``embedding``: a ``PrototypeHead``'s embedding."""
    from torch.utils.data import DataLoader

    from allspark.datasets import allspark_collate
    from allspark.models.heads.base import select_features

    if modality not in model.encoders:
        raise KeyError(f'the model has no {modality!r} modality (has {list(model.encoders)})')
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0,
                        collate_fn=allspark_collate)
    head = model.head
    out: dict[str, list] = dict(encoder=[], language=[])
    done = 0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        enc = model.encoders[modality](inputs[modality])
        tokens, pad = enc if isinstance(enc, tuple) else (enc, None)
        out['encoder'].append(_pooled(tokens, pad).float().cpu())
        bridged = {modality: model.bridges[modality](tokens, pad)}
        feats = model._language([modality], bridged)
        lang = head.read(feats) if hasattr(head, 'read') else None
        if lang is None or lang.dim() != 2:
            lang = select_features(feats, f'modality:{modality}')
        out['language'].append(lang.float().cpu())
        if hasattr(head, 'embed'):
            out.setdefault('embedding', []).append(head.embed(feats).float().cpu())
        done += len(batch['data_samples'])
        if log is not None:
            log(f'features: {done}/{len(dataset)}')
    return {k: torch.cat(v) for k, v in out.items()}


@torch.no_grad()
def class_text_features(model, modality: str, texts: Sequence[str]) -> torch.Tensor:
    """``(C, D)``: each text through the model's language model after ``modality``'s evaluation
    prompt (the model's prompt bank), pooled over the text's tokens."""
    model.eval()
    prompt = model.prompt_bank.select([modality], False) if model.prompt_bank else ''
    return encode_class_texts(model.language_model, list(texts), prompt,
                              getattr(model, 'token_order', 'prompt_first')).float().cpu()


def centre_l2(x: torch.Tensor, mean: Optional[torch.Tensor]) -> torch.Tensor:
    """SimpleShot's CL2N: subtract ``mean`` (base-class mean), then L2-normalise rows."""
    if mean is not None:
        x = x - mean
    return F.normalize(x, dim=-1)


# ----------------------------------------------------------------------------- methods
def _targets(way: int, query: int) -> torch.Tensor:
    return torch.arange(way).repeat_interleave(query)


def _gather(feats: torch.Tensor, index: np.ndarray) -> torch.Tensor:
    return feats[torch.as_tensor(index)]


def episode_accuracy(logits: torch.Tensor, way: int, query: int) -> np.ndarray:
    """``(E, W*Q, W)`` logits of queries ordered class by class -> per-episode accuracy."""
    return (logits.argmax(-1) == _targets(way, query)).float().mean(-1).numpy()


def prototype_accuracy(feats: torch.Tensor, episodes: Episodes, shot: int,
                       metric: str = 'cosine', scale: float = 1.0) -> np.ndarray:
    """Nearest class prototype (mean support feature) -> ``(E,)`` accuracies."""
    e, way, query = episodes.query.shape
    support = _gather(feats, episodes.support(shot))           # (E, W, S, D)
    prototypes = support.mean(2)                                 # (E, W, D)
    queries = _gather(feats, episodes.query).reshape(e, way * query, -1)
    return episode_accuracy(prototype_logits(queries, prototypes, metric, scale), way, query)


def text_logits(feats: torch.Tensor, texts: torch.Tensor, episodes: Episodes) -> torch.Tensor:
    """Cosine of each query with the episode's class texts: ``(E, W*Q, W)``."""
    e, way, query = episodes.query.shape
    queries = F.normalize(_gather(feats, episodes.query).reshape(e, way * query, -1), dim=-1)
    protos = F.normalize(texts[torch.as_tensor(episodes.classes)], dim=-1)  # (E, W, D)
    return queries @ protos.transpose(1, 2)


def cache_affinity(feats: torch.Tensor, episodes: Episodes, shot: int,
                   beta: float) -> torch.Tensor:
    """Tip-Adapter's cache logits: per class the mean over its support of
    ``exp(-beta * (1 - cos(q, s)))``: ``(E, W*Q, W)``."""
    e, way, query = episodes.query.shape
    queries = F.normalize(_gather(feats, episodes.query).reshape(e, way * query, -1), dim=-1)
    support = F.normalize(_gather(feats, episodes.support(shot)), dim=-1)  # (E, W, S, D)
    cos = torch.einsum('eqd,ewsd->eqws', queries, support)
    return torch.exp(-beta * (1.0 - cos)).mean(-1)


def tip_adapter_accuracy(feats: torch.Tensor, texts: torch.Tensor, episodes: Episodes,
                         shot: int, alpha: float, beta: float) -> np.ndarray:
    _, way, query = episodes.query.shape
    logits = text_logits(feats, texts, episodes)
    if alpha:
        logits = logits + alpha * cache_affinity(feats, episodes, shot, beta)
    return episode_accuracy(logits, way, query)


def linear_probe_accuracy(feats: torch.Tensor, episodes: Episodes, shot: int, C: float = 1.0,
                          max_iter: int = 100, chunk: int = 200) -> np.ndarray:
    """Multinomial logistic regression per episode on its support set (scikit-learn's
    objective: summed cross-entropy + ``||W||^2 / (2 C)``, intercept not penalised) -> ``(E,)``
    accuracies.

    Solved in the span of the support features (representer theorem: ``W = X^T A``), so each
    episode is a problem in ``way * shot`` variables per class instead of ``D``; ``chunk``
    episodes at a time with L-BFGS (their objectives are independent, so one solve of the sum
    fits them all)."""
    e, way, query = episodes.query.shape
    accs = []
    for start in range(0, e, chunk):
        sl = slice(start, min(e, start + chunk))
        sub = Episodes(episodes.classes[sl], episodes.query[sl], episodes.support_pool[sl])
        n, m = len(sub), way * shot
        xs = _gather(feats, sub.support(shot)).reshape(n, m, -1).double()
        xq = _gather(feats, sub.query).reshape(n, way * query, -1).double()
        gram = xs @ xs.transpose(1, 2)                                  # (n, m, m)
        ys = torch.arange(way).repeat_interleave(shot).repeat(n)
        coef = torch.zeros(n, m, way, dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(n, 1, way, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([coef, bias], lr=1.0, max_iter=max_iter,
                                line_search_fn='strong_wolfe', tolerance_grad=1e-10,
                                tolerance_change=1e-14)

        def closure():
            opt.zero_grad()
            k_coef = gram @ coef
            loss = F.cross_entropy((k_coef + bias).reshape(-1, way), ys, reduction='sum') + \
                (coef * k_coef).sum() / (2.0 * C)
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(closure)
        with torch.no_grad():
            logits = (xq @ xs.transpose(1, 2)) @ coef + bias
            accs.append(episode_accuracy(logits, way, query))
    return np.concatenate(accs)


# ----------------------------------------------------------------------------- choices on base
def base_episode_shape(labels: np.ndarray, classes: Sequence[int], way: int, shot: int,
                       query: int) -> tuple[int, int, int]:
    """The largest episodes the base pool allows: ``(way, shot, query)`` capped so that every
    base class has ``shot + query`` samples (UC Merced's 4 images per base class: 5-shot becomes
    3-shot + 1 query)."""
    counts = [int((labels == c).sum()) for c in classes]
    smallest = min(counts) if counts else 0
    if len(classes) < 2 or smallest < 2:
        raise ValueError(f'base episodes need >= 2 classes with >= 2 samples each (counts: '
                         f'{dict(zip(classes, counts))})')
    way_b = min(way, len(classes))
    shot_b = min(shot, smallest - 1)
    return way_b, shot_b, min(query, smallest - shot_b)


def choose_on_base(base: dict, base_labels: np.ndarray, base_classes: Sequence[int],
                   base_texts: Optional[torch.Tensor], way: int, shot: int, query: int,
                   episodes: int, seed: int) -> dict:
    """Choose Tip-Adapter's ``(alpha, beta)`` and the linear probe's ``C`` by mean accuracy on
    episodes drawn from the **base** classes (the only data this function receives).

    ``base``: CL2N-transformed base features ``{'language': (N, D), ...}``; ``base_texts``:
    transformed text features of the base classes (``None``: no fusion)."""
    way_b, shot_b, query_b = base_episode_shape(base_labels, base_classes, way, shot, query)
    eps = sample_episodes(base_labels, base_classes, way_b, [shot_b], query_b, episodes, seed)
    chosen = dict(episode=dict(way=way_b, shot=shot_b, query=query_b, episodes=episodes))
    if base_texts is not None:
        grid = {}
        for alpha in ALPHAS:
            for beta in (BETAS if alpha else BETAS[:1]):
                grid[(alpha, beta)] = float(tip_adapter_accuracy(
                    base['language'], base_texts, eps, shot_b, alpha, beta).mean())
        (alpha, beta), acc = max(grid.items(), key=lambda kv: (kv[1], -kv[0][0]))
        chosen.update(alpha=alpha, beta=beta, tip_adapter_base_acc=100 * acc)
    for key, name in (('language', 'probe_C'), ('encoder', 'probe_encoder_C')):
        scores = {c: float(linear_probe_accuracy(base[key], eps, shot_b, c).mean())
                  for c in PROBE_CS}
        best = max(scores, key=lambda c: (scores[c], -c))
        chosen.update({name: best, name + '_base_acc': 100 * scores[best]})
    return chosen


# ----------------------------------------------------------------------------- the evaluation
@dataclass
class FeatureBank:
    """Features of one sample list and its labels (class ids into ``class_names``)."""

    features: dict
    labels: np.ndarray
    class_names: list
    text_features: Optional[torch.Tensor] = None  # (C, D), one per class name
    protonet: Optional[dict] = field(default=None)  # {'embedding': (N, D), 'metric', 'scale'}


def evaluate_fewshot(bank: FeatureBank, novel: Sequence[int], base: Sequence[int], way: int,
                     shots: Sequence[int], query: int, episodes: int, seed: int,
                     base_episodes: int = 200, methods: Sequence[str] = METHODS,
                     log=print) -> dict:
    """Run every method on the same episodes of the ``novel`` classes; choices (fusion weights,
    probe strength, feature centre) use the ``base`` classes only.  Returns a JSON-able dict:
    ``results[method][shot] = {'mean', 'ci95', 'n'}`` in percent, plus ``choices`` and the
    episode summary."""
    labels = np.asarray(bank.labels)
    novel, base = [int(c) for c in novel], [int(c) for c in base]
    overlap = sorted(set(novel) & set(base))
    if overlap:
        raise ValueError(f'classes {[bank.class_names[c] for c in overlap]} are both novel and '
                         f'base')
    eps = sample_episodes(labels, novel, way, shots, query, episodes, seed)
    base_idx = np.flatnonzero(np.isin(labels, base)) if base else np.array([], np.int64)
    feats = {}
    for key in ('encoder', 'language'):
        mean = bank.features[key][torch.as_tensor(base_idx)].mean(0) if len(base_idx) else None
        feats[key] = centre_l2(bank.features[key], mean)
    texts = None
    if bank.text_features is not None:
        text_mean = bank.text_features[torch.as_tensor(base)].mean(0) if base else None
        texts = centre_l2(bank.text_features, text_mean)
    want = [m for m in methods if m in METHODS]
    if texts is None:
        want = [m for m in want if m not in ('text_zero_shot', 'tip_adapter')]
    if bank.protonet is None:
        want = [m for m in want if m != 'protonet']
    needs_base = {'tip_adapter', 'linear_probe', 'linear_probe_encoder'} & set(want)
    if needs_base and len(base) < 2:
        log(f'no base classes: skipping {sorted(needs_base)} (their settings are chosen on '
            f'base-class episodes)')
        want = [m for m in want if m not in needs_base]
    results = {m: {} for m in want}
    choices = {}
    for shot in shots:
        if needs_base & set(want):
            base_feats = {k: v[torch.as_tensor(base_idx)] for k, v in feats.items()}
            remap = {c: i for i, c in enumerate(base)}
            base_labels = np.asarray([remap[int(c)] for c in labels[base_idx]])
            base_texts = texts[torch.as_tensor(base)] if texts is not None else None
            choices[shot] = choose_on_base(base_feats, base_labels, list(range(len(base))),
                                           base_texts, way, shot, query, base_episodes,
                                           seed + 1)
            log(f'{shot}-shot: chosen on base-class episodes: {choices[shot]}')
        accs = {}
        if 'encoder_proto' in want:
            accs['encoder_proto'] = prototype_accuracy(feats['encoder'], eps, shot)
        if 'language_proto' in want:
            accs['language_proto'] = prototype_accuracy(feats['language'], eps, shot)
        if 'text_zero_shot' in want:
            accs['text_zero_shot'] = tip_adapter_accuracy(feats['language'], texts, eps, shot,
                                                          0.0, 1.0)
        if 'tip_adapter' in want:
            c = choices[shot]
            accs['tip_adapter'] = tip_adapter_accuracy(feats['language'], texts, eps, shot,
                                                       c['alpha'], c['beta'])
        if 'linear_probe' in want:
            accs['linear_probe'] = linear_probe_accuracy(feats['language'], eps, shot,
                                                         choices[shot]['probe_C'])
        if 'linear_probe_encoder' in want:
            accs['linear_probe_encoder'] = linear_probe_accuracy(
                feats['encoder'], eps, shot, choices[shot]['probe_encoder_C'])
        if 'protonet' in want:
            p = bank.protonet
            accs['protonet'] = prototype_accuracy(p['embedding'], eps, shot, p['metric'],
                                                  p.get('scale', 1.0))
        for method, values in accs.items():
            mean, ci = mean_confidence_interval(100 * values)
            results[method][shot] = dict(mean=mean, ci95=ci, n=int(len(values)))
    return dict(
        results=results, choices=choices,
        episodes=dict(way=way, shots=list(shots), query=query, episodes=episodes, seed=seed,
                      novel_classes=[bank.class_names[c] for c in novel],
                      base_classes=[bank.class_names[c] for c in base],
                      novel_samples=int(np.isin(labels, novel).sum()),
                      base_samples=int(len(base_idx)),
                      base_episodes=base_episodes))


def format_table(report: dict, published: Optional[dict] = None) -> str:
    """Plain-text table: one row per method, one column per shot (mean +- 95 % CI)."""
    shots = report['episodes']['shots']
    lines = [f"{'method':<72}" + ''.join(f'{s:>3}-shot (%) ' + ' ' * 4 for s in shots)]
    for method, per_shot in report['results'].items():
        cells = []
        for s in shots:
            r = per_shot.get(s) or per_shot.get(str(s))
            cells.append(f"{r['mean']:6.2f} +- {r['ci95']:5.2f}    " if r else ' ' * 19)
        lines.append(f'{METHOD_LABELS.get(method, method):<72}' + ''.join(cells))
    for name, row in (published or {}).items():
        cells = [f'{row[s]:6.2f}' + ' ' * 13 if row.get(s) is not None else ' ' * 4 + '-' +
                 ' ' * 14 for s in shots]
        lines.append(f'{"published: " + name:<72}' + ''.join(cells))
    return '\n'.join(lines)


def plot_report(report: dict, path: str, title: str = '') -> None:
    """Accuracy vs. shots per method, with 95 % CI bars, as a PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    shots = report['episodes']['shots']
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (method, per_shot) in enumerate(report['results'].items()):
        xs = [s for s in shots if s in per_shot or str(s) in per_shot]
        rs = [per_shot.get(s) or per_shot.get(str(s)) for s in xs]
        offset = (i - len(report['results']) / 2) * 0.04 * max(1, max(shots) - min(shots))
        ax.errorbar([x + offset for x in xs], [r['mean'] for r in rs],
                    yerr=[r['ci95'] for r in rs], marker='o', capsize=3,
                    label=METHOD_LABELS.get(method, method))
    ep = report['episodes']
    ax.axhline(100.0 / ep['way'], color='grey', ls=':', lw=1, label='chance')
    ax.set_xticks(shots)
    ax.set_xlabel('shots (support samples per class)')
    ax.set_ylabel('accuracy (%), mean +- 95 % CI')
    ax.set_title(title or f"{ep['way']}-way, {ep['query']} queries, {ep['episodes']} episodes")
    ax.legend(fontsize=7, loc='best')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
