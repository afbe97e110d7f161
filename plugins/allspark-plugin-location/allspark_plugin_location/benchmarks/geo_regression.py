r"""Regression probes on frozen location embeddings (SatCLIP / UniGeoCLIP downstream protocol).

For each dataset and seed: a seeded random 50/50 split of the rows (SatCLIP's air-temperature
protocol; the same split for every method), location features computed for both halves, then two
probes fitted on the training half only and scored once on the test half (R², MSE in the
target's units):

* ridge regression on standardised features, ``alpha`` chosen by 5-fold CV on the training half
  from ``10^-4 .. 10^4``;
* a small MLP (one hidden ReLU layer, Adam, mini-batches of 256), hidden width in {64, 256} and
  the number of steps in {150, 400} chosen by 2-fold CV on the training half (the
  machine's budget: 2 shared CPU cores).

Features ("methods"), all in the same run:

* ``raw``: the two numbers (lat, lon) in degrees;
* ``rff_single``: the frozen random Fourier features of the encoder at sigma = 1 only
  (Equal Earth, 128 frequencies -> 256 features), no learned layer;
* ``rff_multi``: the frozen features of all four scales (2^0, 2^4, 2^8, 2^12) concatenated (1,024);
* ``enc_multi_untrained`` / ``enc_single_untrained``: the pooled embedding (128) of a randomly
  initialised ``MultiScaleLocationEncoder`` (four scales / ``scales=[1.0]``; width 128, 128
  frequencies per scale, 2 registers, one transformer layer);
* ``enc_multi_trained`` / ``enc_single_trained`` / ``enc_raw_trained``: the same encoders (and
  ``mode='raw'``) **trained supervised on the training half only**: encoder + one linear layer on
  the pooled embedding, MSE on the z-scored target, AdamW (lr 2e-3, weight decay 1e-4, cosine),
  ``--train-steps`` (150) steps of batch 256 on 90 % of the training half, the step count with the
  lowest MSE on the other 10 % (checked every 50 steps) kept; then frozen and probed like the
  others (the probes refit on the whole training half);
* ``geoclip``: GeoCLIP's pretrained location encoder (512), when the optional PyPI package
  ``geoclip`` is installed (its weights ship in the package and load offline).  It was trained on
  MP-16 (4.7 M geotagged Flickr photos), aligned with CLIP ViT-L/14 image features.

Run (2-core CPU shared with other jobs; ~40 min for both datasets and three seeds)::

    allspark benchmark geo_regression --data-root ../shared/data/geo_regression \\
        --dataset air_temperature california_housing --seeds 0 1 2 \\
        --output work_dirs/geo_regression/results.json

The JSON holds every (dataset, seed, method, probe) score, the chosen hyper-parameters and the
mean and sample standard deviation over seeds; the summary table is printed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn

DATASETS = {
    'air_temperature': dict(file='air_temperature/stationDataAll.csv', lat_column='Lat',
                            lon_column='Lon', target_column='meanT', unit='deg C'),
    'california_housing': dict(file='california_housing/housing.csv', lat_column='latitude',
                               lon_column='longitude', target_column='median_house_value',
                               unit='USD'),
}
METHODS = ('raw', 'rff_single', 'rff_multi', 'enc_single_untrained', 'enc_multi_untrained',
           'enc_raw_trained', 'enc_single_trained', 'enc_multi_trained', 'geoclip')
MLP_ORDER = ('raw', 'rff_single', 'rff_multi', 'enc_multi_trained', 'enc_single_trained',
             'enc_raw_trained', 'geoclip', 'enc_multi_untrained', 'enc_single_untrained')
MULTI_SCALES = (1.0, 16.0, 256.0, 4096.0)
# depth 1 (the configs use 2): the budget of a 2-core CPU shared with ~8 jobs
ENCODER_KW = dict(embed_dim=128, num_frequencies=128, num_registers=2, depth=1, num_heads=4)
RIDGE_ALPHAS = tuple(10.0 ** k for k in range(-4, 5))
MLP_WIDTHS, MLP_STEPS, MLP_FOLDS = (64, 256), (150, 400), 2


def log(msg: str) -> None:
    print(f'[geo_regression {time.strftime("%H:%M:%S")}] {msg}', flush=True)


# ---------------------------------------------------------------------------------- metrics
def r2_mse(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    y, pred = np.asarray(y, np.float64).ravel(), np.asarray(pred, np.float64).ravel()
    mse = float(np.mean((y - pred) ** 2))
    return float(1.0 - mse / np.var(y)), mse


def kfold(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    order = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, k)
    return [(np.concatenate([f for j, f in enumerate(folds) if j != i]), folds[i])
            for i in range(k)]


def standardise(train: np.ndarray, *others: np.ndarray):
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 1e-12, std, 1.0)
    return [(a - mean) / std for a in (train,) + others]


# ---------------------------------------------------------------------------------- probes
class _RidgePath:
    """Ridge with intercept for many ``alpha`` from one eigendecomposition of the (d x d) Gram
    matrix (or of the (n x n) kernel when d > n)."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.xm, self.ym = x.mean(0), y.mean()
        xc, yc = x - self.xm, y - self.ym
        self.primal = xc.shape[1] <= xc.shape[0]
        if self.primal:
            self.s, self.v = np.linalg.eigh(xc.T @ xc)
            self.proj = self.v.T @ (xc.T @ yc)
        else:
            self.s, self.v = np.linalg.eigh(xc @ xc.T)
            self.proj = self.v.T @ yc
            self.xc = xc

    def predict(self, x_test: np.ndarray, alpha: float) -> np.ndarray:
        coef = self.v @ (self.proj / (np.clip(self.s, 0, None) + alpha))
        w = coef if self.primal else self.xc.T @ coef
        return (x_test - self.xm) @ w + self.ym


def ridge_probe(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, seed: int) -> dict:
    x, x_test = standardise(x, x_test)
    errs = {alpha: [] for alpha in RIDGE_ALPHAS}
    for tr, va in kfold(len(y), 5, seed):
        path = _RidgePath(x[tr], y[tr])
        for alpha in RIDGE_ALPHAS:
            errs[alpha].append(np.mean((path.predict(x[va], alpha) - y[va]) ** 2))
    cv = {alpha: float(np.mean(e)) for alpha, e in errs.items()}
    best = min(cv, key=cv.get)
    return dict(pred=_RidgePath(x, y).predict(x_test, best), params=dict(alpha=best),
                cv_mse=cv[best])


def _mlp_train(x: np.ndarray, y: np.ndarray, width: int, steps: Sequence[int], seed: int,
               evals: Sequence[np.ndarray]) -> dict[int, list[np.ndarray]]:
    """Train one MLP; return predictions on each of ``evals`` at each step count in ``steps``."""
    torch.manual_seed(seed)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    net = nn.Sequential(nn.Linear(x.shape[1], width), nn.ReLU(), nn.Linear(width, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    out, batch = {}, min(256, len(y))
    for step in range(1, max(steps) + 1):
        idx = torch.randint(0, len(y), (batch,), generator=gen)
        loss = ((net(xt[idx]).squeeze(-1) - yt[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in steps:
            with torch.no_grad():
                out[step] = [net(torch.as_tensor(e, dtype=torch.float32)).squeeze(-1).numpy()
                             .astype(np.float64) for e in evals]
    return out


def mlp_probe(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, seed: int) -> dict:
    x, x_test = standardise(x, x_test)
    y_mean, y_std = y.mean(), y.std()
    ys = (y - y_mean) / y_std
    cv = {}
    for width in MLP_WIDTHS:
        errs = {s: [] for s in MLP_STEPS}
        for tr, va in kfold(len(y), MLP_FOLDS, seed):
            preds = _mlp_train(x[tr], ys[tr], width, MLP_STEPS, seed, [x[va]])
            for s in MLP_STEPS:
                errs[s].append(np.mean((preds[s][0] - ys[va]) ** 2))
        for s in MLP_STEPS:
            cv[(width, s)] = float(np.mean(errs[s]))
    width, steps = min(cv, key=cv.get)
    pred = _mlp_train(x, ys, width, (steps,), seed, [x_test])[steps][0]
    return dict(pred=pred * y_std + y_mean, params=dict(width=width, steps=steps),
                cv_mse=cv[(width, steps)] * y_std ** 2)


PROBES: dict[str, Callable] = {'ridge': ridge_probe, 'mlp': mlp_probe}


# ---------------------------------------------------------------------------------- features
def _encoder(scales=MULTI_SCALES, mode='rff', seed=0):
    from allspark_plugin_location.encoder import MultiScaleLocationEncoder

    torch.manual_seed(seed)
    return MultiScaleLocationEncoder(scales=list(scales), mode=mode, seed=seed, **ENCODER_KW)


def rff_features(coords: np.ndarray, scales, seed: int) -> np.ndarray:
    enc = _encoder(scales, seed=seed)
    with torch.no_grad():
        f = enc.fourier_features(torch.as_tensor(coords, dtype=torch.float64))
    return f.reshape(f.shape[0], -1).numpy().astype(np.float64)


def train_encoder(coords: np.ndarray, y: np.ndarray, scales, mode: str, seed: int,
                  steps: int, batch: int = 256, lr: float = 2e-3) -> tuple[nn.Module, dict]:
    """Supervised training on (a 90 % part of) the training half; the best step on the other
    10 % is kept (see module docstring)."""
    enc = _encoder(scales, mode, seed)
    head = nn.Linear(enc.out_dim, 1)
    rng = np.random.default_rng(seed + 1000)
    order = rng.permutation(len(y))
    n_val = max(1, len(y) // 10)
    val, fit = order[:n_val], order[n_val:]
    mean, std = y[fit].mean(), y[fit].std()
    xt = torch.as_tensor(coords, dtype=torch.float64)
    yt = torch.as_tensor((y - mean) / std, dtype=torch.float32)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(s, steps) /
                                                                      steps)))
    gen = torch.Generator().manual_seed(seed)
    fit_t = torch.as_tensor(fit)
    best = (math.inf, 0, None)

    def val_mse() -> float:
        enc.eval()
        with torch.no_grad():
            pred = head(enc.forward_features(xt[val])['pooled']).squeeze(-1)
        enc.train()
        return float(((pred - yt[val]) ** 2).mean())

    for step in range(1, steps + 1):
        idx = fit_t[torch.randint(0, len(fit), (min(batch, len(fit)),), generator=gen)]
        pred = head(enc.forward_features(xt[idx])['pooled']).squeeze(-1)
        loss = ((pred - yt[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps:
            mse = val_mse()
            if mse < best[0]:
                best = (mse, step, {k: v.clone() for k, v in enc.state_dict().items()})
    enc.load_state_dict(best[2])
    enc.eval()
    return enc, dict(best_step=best[1], val_mse_z=best[0], steps=steps)


def encoder_embed(enc: nn.Module, coords: np.ndarray) -> np.ndarray:
    return enc.embed(coords).numpy().astype(np.float64)


_GEOCLIP_CACHE: dict = {}


def geoclip_features(coords_list: Sequence[np.ndarray]) -> Optional[list[np.ndarray]]:
    """GeoCLIP embeddings (deterministic: each coordinate is embedded once per process)."""
    if 'encoder' not in _GEOCLIP_CACHE:
        _GEOCLIP_CACHE['encoder'] = _load_geoclip()
    enc = _GEOCLIP_CACHE['encoder']
    if enc is None:
        return None
    out = []
    for coords in coords_list:
        keys = [tuple(c) for c in np.asarray(coords, np.float64)]
        todo = [k for k in dict.fromkeys(keys) if k not in _GEOCLIP_CACHE]
        with torch.no_grad():
            for i in range(0, len(todo), 2048):
                chunk = todo[i:i + 2048]
                emb = enc(torch.as_tensor(chunk, dtype=torch.float32)).numpy()
                _GEOCLIP_CACHE.update(zip(chunk, emb.astype(np.float64)))
        out.append(np.stack([_GEOCLIP_CACHE[k] for k in keys]))
    return out


def _load_geoclip():
    try:
        os.environ.setdefault('HF_HUB_OFFLINE', '1')
        from geoclip import LocationEncoder
    except Exception as exc:  # optional dependency
        log(f'geoclip not available ({type(exc).__name__}: {exc}); skipping that baseline')
        return None
    return LocationEncoder().eval()


def method_features(method: str, c_tr: np.ndarray, y_tr: np.ndarray, c_te: np.ndarray,
                    seed: int, args) -> Optional[tuple[np.ndarray, np.ndarray, dict]]:
    if method == 'raw':
        return c_tr.copy(), c_te.copy(), {}
    if method in ('rff_single', 'rff_multi'):
        scales = [1.0] if method == 'rff_single' else MULTI_SCALES
        return rff_features(c_tr, scales, seed), rff_features(c_te, scales, seed), {}
    if method.endswith('_untrained'):
        enc = _encoder([1.0] if 'single' in method else MULTI_SCALES, seed=seed).eval()
        return encoder_embed(enc, c_tr), encoder_embed(enc, c_te), {}
    if method.endswith('_trained'):
        kind = method.split('_')[1]
        scales = {'single': [1.0], 'multi': MULTI_SCALES, 'raw': [1.0]}[kind]
        enc, info = train_encoder(c_tr, y_tr, scales, 'raw' if kind == 'raw' else 'rff', seed,
                                  args.train_steps)
        return encoder_embed(enc, c_tr), encoder_embed(enc, c_te), info
    if method == 'geoclip':
        feats = geoclip_features([c_tr, c_te])
        return None if feats is None else (feats[0], feats[1], {})
    raise ValueError(f'unknown method {method!r}; choose from {METHODS}')


# ---------------------------------------------------------------------------------- driver
def load_split(data_root: str, name: str, seed: int, max_rows: Optional[int] = None):
    from allspark_plugin_location.dataset import CoordinateTableDataset

    spec = {k: v for k, v in DATASETS[name].items() if k != 'unit'}
    out = []
    for split in ('train', 'test'):
        ds = CoordinateTableDataset(data_root=data_root, split=split, seed=seed,
                                    train_ratio=0.5, **spec)
        coords, y = ds.coordinates(), ds.targets()[:, 0]
        if max_rows:
            coords, y = coords[:max_rows], y[:max_rows]
        out += [coords, y]
    return out


def summarise(rows: list[dict]) -> dict:
    summary: dict = {}
    for r in rows:
        key = (r['dataset'], r['method'], r['probe'])
        summary.setdefault(key, []).append(r)
    out = {}
    for (dataset, method, probe), rs in summary.items():
        r2 = np.array([r['r2'] for r in rs])
        mse = np.array([r['mse'] for r in rs])
        out.setdefault(dataset, {}).setdefault(method, {})[probe] = dict(
            r2_mean=float(r2.mean()), r2_std=float(r2.std(ddof=1)) if len(r2) > 1 else 0.0,
            mse_mean=float(mse.mean()), mse_std=float(mse.std(ddof=1)) if len(mse) > 1 else 0.0,
            seeds=[r['seed'] for r in rs], r2_per_seed=r2.tolist())
    return out


def print_table(summary: dict) -> None:
    for dataset, methods in summary.items():
        print(f'\n{dataset} (test half; mean ± std over seeds)')
        print(f'{"method":24s} {"ridge R2":>18s} {"MLP R2":>18s} {"ridge MSE":>14s} '
              f'{"MLP MSE":>14s}')
        for method, probes in methods.items():
            cells = []
            for probe in ('ridge', 'mlp'):
                p = probes.get(probe)
                cells.append(f'{p["r2_mean"]:.4f} ± {p["r2_std"]:.4f}' if p else '-')
            mses = [f'{probes[p]["mse_mean"]:.4g}' if p in probes else '-' for p in
                    ('ridge', 'mlp')]
            print(f'{method:24s} {cells[0]:>18s} {cells[1]:>18s} {mses[0]:>14s} {mses[1]:>14s}')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark geo_regression',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='../shared/data/geo_regression',
                        help='folder holding air_temperature/ and california_housing/')
    parser.add_argument('--dataset', nargs='+', default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=list(METHODS))
    parser.add_argument('--probes', nargs='+', default=list(PROBES), choices=list(PROBES))
    parser.add_argument('--train-steps', type=int, default=150,
                        help='steps of the supervised training of the *_trained encoders')
    parser.add_argument('--max-rows', type=int, default=None,
                        help='keep the first N rows of each half (smoke tests only)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--output', default='work_dirs/geo_regression/results.json')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)

    def save() -> dict:
        summary = summarise(rows)
        with open(args.output, 'w') as f:
            json.dump(dict(command=' '.join(['allspark benchmark geo_regression'] +
                                            list(argv if argv is not None else sys.argv[1:])),
                           protocol='seeded random 50/50 split per seed, same split for every '
                                    'method; probes fitted on the training half, '
                                    'hyper-parameters by CV on the training half',
                           datasets={k: DATASETS[k] for k in args.dataset},
                           rows=rows, summary=summary), f, indent=1)
        return summary

    def probe(name, seed, method, probe_name, feats, y_tr, y_te) -> None:
        t0 = time.time()
        f_tr, f_te, info = feats
        res = PROBES[probe_name](f_tr, y_tr, f_te, seed)
        r2, mse = r2_mse(y_te, res['pred'])
        rows.append(dict(dataset=name, seed=seed, method=method, probe=probe_name, r2=r2,
                         mse=mse, params=res['params'], cv_mse=res['cv_mse'],
                         feature_dim=int(f_tr.shape[1]), train_info=info,
                         n_train=len(y_tr), n_test=len(y_te)))
        log(f'{name} seed {seed} {method:22s} {probe_name:5s} R2 {r2:.4f} MSE {mse:.5g} '
            f'{res["params"]} ({time.time() - t0:.0f} s)')
        save()

    # Phase 1: every feature set and the cheap ridge probe; phase 2: the MLP probe, in the order
    # of MLP_ORDER, over the stored features (so that a run cut short still has every ridge row
    # and the MLP rows of the main comparisons first).
    stored = {}
    for name in args.dataset:
        for seed in args.seeds:
            c_tr, y_tr, c_te, y_te = load_split(args.data_root, name, seed, args.max_rows)
            log(f'{name} seed {seed}: {len(y_tr)} train / {len(y_te)} test rows')
            for method in args.methods:
                t0 = time.time()
                feats = method_features(method, c_tr, y_tr, c_te, seed, args)
                if feats is None:
                    continue
                log(f'{name} seed {seed} {method}: features {feats[0].shape} '
                    f'({time.time() - t0:.0f} s) {feats[2] or ""}')
                stored[(name, seed, method)] = (feats, y_tr, y_te)
                if 'ridge' in args.probes:
                    probe(name, seed, method, 'ridge', feats, y_tr, y_te)
    for probe_name in [p for p in args.probes if p != 'ridge']:
        for method in [m for m in MLP_ORDER if m in args.methods]:
            for name in args.dataset:
                for seed in args.seeds:
                    if (name, seed, method) in stored:
                        feats, y_tr, y_te = stored[(name, seed, method)]
                        probe(name, seed, method, probe_name, feats, y_tr, y_te)
    summary = save()
    print_table(summary)
    print(f'\nwrote {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
