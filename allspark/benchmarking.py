"""Shared harness for the plugins' benchmarks (``allspark benchmark <name>``).

A benchmark is a *protocol runner*: for every split of its protocol (ETH-UCY fold, MSTAR
condition, HSI scene, PRSA split mode...) and every training seed it trains AllSpark and the
classic baselines on the same data in the same run, then reports each split's mean and spread
over seeds and the mean over splits.  This module holds what every benchmark needs:

* arguments: :func:`add_common_arguments` (``--data-root``, ``--seeds``, ``--out``, ``--smoke``,
  ``--threads``, ``--cfg-options``) and :func:`set_threads`;
* timing: :class:`Timer`;
* statistics: :func:`wilson_ci` (accuracies), :func:`mean_ci` (Student t or bootstrap over
  seeds), :func:`aggregate` (mean / std / CI of every numeric metric over seeds);
* the report: :class:`BenchmarkReport` writes one JSON with the machine, the command line, the
  data root, the splits, the seeds, the model-selection record (how settings were chosen:
  cross-validation or validation on training data only) and, per split, every run, the
  aggregate over seeds and the comparison of AllSpark's *mean* with each baseline's;
* AllSpark runs: :func:`prepare_allspark_config` (data root, seed, a shorter run, a tiny
  language model for smoke tests) and :func:`train_and_test`;
* the one baseline-training loop, :func:`train_classifier` / :func:`predict_classifier`, used by
  every plugin's classic baselines (arrays or datasets, AdamW or Adam, warm-up + cosine schedule
  over iterations or over a wall-clock budget).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

#: What the selection record must say when a benchmark chooses nothing on this run.
FIXED_SETTINGS = 'fixed beforehand (no setting is chosen in this run; none on the test split)'


# --------------------------------------------------------------------------- arguments
def add_common_arguments(parser: argparse.ArgumentParser, data_root: str,
                         default_seeds: Sequence[int] = (0, 1, 2),
                         out: str = 'work_dirs/benchmarks') -> None:
    """The options every benchmark takes."""
    parser.add_argument('--data-root', default=data_root,
                        help=f'dataset folder (default: {data_root})')
    parser.add_argument('--seeds', type=int, nargs='+', default=list(default_seeds),
                        help='training seeds; every figure is reported as the mean and spread '
                             f'over them (default: {" ".join(map(str, default_seeds))})')
    parser.add_argument('--out', default=out, help='output folder (JSON, plots, work dirs)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny budget and a tiny random language model: checks that the '
                             'benchmark runs end to end (figures are meaningless)')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (default 1)')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='key=value overrides of the AllSpark config(s)')


def set_threads(threads: int = 1) -> None:
    """One thread per process by default, as the shared CPU machine requires."""
    import torch

    os.environ.setdefault('OMP_NUM_THREADS', str(threads))
    os.environ.setdefault('MKL_NUM_THREADS', str(threads))
    torch.set_num_threads(threads)


def split_choices(value: Optional[Sequence[str]], available: Sequence[str], kind: str
                  ) -> list[str]:
    """The splits to run: ``value`` (checked against ``available``) or every available one."""
    if not available:
        raise FileNotFoundError(f'no {kind} found')
    if not value:
        return list(available)
    unknown = [v for v in value if v not in available]
    if unknown:
        raise ValueError(f'unknown {kind} {unknown}; available: {list(available)}')
    return list(value)


# --------------------------------------------------------------------------- machine, timing
def machine_info(threads: Optional[int] = None) -> dict:
    """What ran it: CPU count, load, platform, library versions, accelerator."""
    import torch

    info = dict(cpu_count=os.cpu_count(), platform=platform.platform(),
                python=platform.python_version(), torch=torch.__version__,
                torch_threads=threads or torch.get_num_threads(),
                cuda=torch.cuda.is_available(), host=platform.node())
    try:
        info['loadavg_start'] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not on every platform
        pass
    if info['cuda']:
        info['gpu'] = torch.cuda.get_device_name(0)
    info['cpu_model'] = _cpu_model()
    from allspark.engine.precision import bf16_is_fast
    # whether bfloat16 runs on matrix units here (AVX512-BF16/AMX) or is emulated: it decides
    # every precision='auto' config and makes bf16 timings incomparable across machines
    info['bf16_hardware'] = bf16_is_fast('cuda' if info['cuda'] else 'cpu')
    info.update(_git_state())
    info['summary'] = (f"{info['cpu_count']}-core {info['cpu_model']}"
                       + (f", GPU {info['gpu']}" if info['cuda'] else ', no GPU')
                       + f", {info['torch_threads']} torch thread(s)")
    return info


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _git_state() -> dict:
    """The checkout's commit and whether tracked files differ from it (when run from a git
    checkout of the project; nothing otherwise)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        changed = subprocess.run(['git', '-C', root, 'status', '--porcelain',
                                  '--untracked-files=no'], capture_output=True, text=True,
                                 timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {}
    if not commit:
        return {}
    return dict(git_commit=commit, git_modified_files=len(changed))


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (wall clock, ``perf_counter``)."""

    def __enter__(self) -> 'Timer':
        self.start = time.perf_counter()
        self.seconds = float('nan')
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def throughput(n: int, seconds: float) -> float:
    """Samples per second (inf-safe for instantaneous baselines)."""
    return float(n) / max(seconds, 1e-9)


# --------------------------------------------------------------------------- statistics
def wilson_ci(correct: int, total: int, z: float = 1.959964) -> list[float]:
    """95 % Wilson score interval of an accuracy ``correct / total``, in percent."""
    from allspark.evaluation.statistics import wilson_interval

    return list(wilson_interval(int(correct), int(total), z))


def mean_ci(values: Sequence[float], method: str = 't', level: float = 0.95,
            n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean, sample standard deviation and a ``level`` interval of the mean of ``values``.

    ``method='t'``: Student t (the default: few seeds); ``'bootstrap'``: percentile bootstrap of
    the mean.  With one value the spread and interval are NaN (say so, do not hide it)."""
    x = np.asarray([float(v) for v in values], dtype=np.float64)
    n = len(x)
    out = dict(mean=float(x.mean()) if n else float('nan'), n=n, values=x.tolist(),
               std=float(x.std(ddof=1)) if n > 1 else float('nan'))
    if n < 2:
        out['ci95'] = [float('nan'), float('nan')]
    elif method == 't':
        from scipy import stats

        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * out['std'] / math.sqrt(n)
        out['ci95'] = [out['mean'] - half, out['mean'] + half]
    elif method == 'bootstrap':
        rng = np.random.default_rng(seed)
        means = rng.choice(x, size=(n_boot, n), replace=True).mean(1)
        out['ci95'] = [float(np.quantile(means, (1 - level) / 2)),
                       float(np.quantile(means, 0.5 + level / 2))]
    else:
        raise ValueError(f"mean_ci: method must be 't' or 'bootstrap', got {method!r}")
    out['ci_method'] = method
    return out


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                      bool)


def aggregate(runs: Sequence[dict], method: str = 't') -> dict:
    """``{metric: mean_ci(values over runs)}`` for every numeric metric present in all runs."""
    if not runs:
        return {}
    keys = [k for k in runs[0] if all(_numeric(r.get(k)) for r in runs)]
    return {k: mean_ci([r[k] for r in runs], method) for k in keys}


# --------------------------------------------------------------------------- report
class BenchmarkReport:
    """Everything one benchmark run measured, labelled with what it ran on.

    Args:
        benchmark: the benchmark's name (``'eth'``).
        dataset: what the data is (``'ETH-UCY'``).
        data_root: the folder it read.
        split_kind: ``'fold'``, ``'condition'``, ``'scene'``, ``'split'``...
        seeds: the training seeds.
        selection: how every setting was chosen (``{'allspark': ..., 'baselines': ...}``); it
            must name the data used, which is training data only (CV or a validation part).
        primary_metric / higher_is_better: the metric the AllSpark-vs-baseline verdict uses.
        allspark: the model key(s) that are AllSpark (the others are baselines).
        argv: the benchmark's arguments (recorded as the command line).
    """

    def __init__(self, benchmark: str, dataset: str, data_root: str, split_kind: str,
                 seeds: Sequence[int], selection: dict, primary_metric: str,
                 higher_is_better: bool, allspark: Union[str, Sequence[str]] = 'allspark',
                 argv: Optional[Sequence[str]] = None, smoke: bool = False,
                 threads: Optional[int] = None, ci_method: str = 't',
                 verdict_metrics: Optional[Sequence[str]] = None, out: Optional[str] = None,
                 **extra: Any):
        if not selection:
            raise ValueError('BenchmarkReport: a selection record (how settings were chosen) '
                             'is required')
        argv = sys.argv[1:] if argv is None else list(argv)
        self.allspark = [allspark] if isinstance(allspark, str) else list(allspark)
        self.ci_method = ci_method
        # With ``out``, every added run rewrites <out>/<benchmark>_benchmark.json (marked
        # complete: false), so a run stopped half-way still leaves what it measured.
        self.autosave = os.path.join(out, f'{benchmark}_benchmark.json') if out else None
        self.verdict_metrics = list(verdict_metrics or [primary_metric])
        if primary_metric not in self.verdict_metrics:
            self.verdict_metrics.insert(0, primary_metric)
        self.data = dict(
            benchmark=benchmark, dataset=dataset, data_root=os.path.abspath(data_root),
            split_kind=split_kind, seeds=list(seeds), smoke=smoke,
            command=f'allspark benchmark {benchmark} ' + ' '.join(argv),
            machine=machine_info(threads), started=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
            selection=selection, primary_metric=primary_metric,
            higher_is_better=higher_is_better, verdict_metrics=self.verdict_metrics,
            allspark_models=self.allspark,
            splits={}, **extra)
        if smoke:
            self.data['note'] = ('smoke run: tiny budget and a tiny random language model; '
                                 'the figures only show that the benchmark runs')

    # ---------------------------------------------------------------- filling in
    def split(self, name: str, label: str, **info: Any) -> dict:
        """Declare a split (``label``: what titles and docs call it, e.g. 'ETH-UCY univ')."""
        entry = self.data['splits'].setdefault(name, dict(label=label, runs={}))
        entry.update(label=label, **info)
        return entry

    def add(self, split: str, model: str, metrics: dict, seed: Optional[int] = None) -> dict:
        """Record one run (``seed=None``: a deterministic model fitted once per split)."""
        entry = self.data['splits'][split]
        record = dict(_plain(metrics), seed=seed)
        entry['runs'].setdefault(model, []).append(record)
        if self.autosave:
            self.write(self.autosave, complete=False)
        return record

    # ---------------------------------------------------------------- summary
    def summarise(self) -> dict:
        """Per split: each model's aggregate over seeds and, for every verdict metric, the
        comparison of each AllSpark model's *mean* with the strongest baseline's mean; then the
        mean over splits of each model's per-split means."""
        key, hib = self.data['primary_metric'], self.data['higher_is_better']
        over_splits: dict[str, dict[str, list[float]]] = {}
        for entry in self.data['splits'].values():
            entry['aggregate'] = {m: aggregate(r, self.ci_method)
                                  for m, r in entry['runs'].items()}
            entry['verdict'] = {}
            for metric in self.verdict_metrics:
                means = {m: a[metric]['mean'] for m, a in entry['aggregate'].items()
                         if metric in a}
                for m, v in means.items():
                    over_splits.setdefault(m, {}).setdefault(metric, []).append(v)
                verdict = self._verdict(means, metric, hib)
                if verdict:
                    entry['verdict'][metric] = verdict
        self.data['mean_over_splits'] = {
            m: {metric: dict(mean=float(np.mean(v)), splits=len(v), per_split=v)
                for metric, v in per_metric.items()}
            for m, per_metric in over_splits.items()}
        verdicts = [e['verdict'][key] for e in self.data['splits'].values()
                    if key in e.get('verdict', {})]
        self.data['beats_strongest_baseline_on_every_split'] = (
            bool(verdicts) and all(v['beats_strongest_baseline'] for v in verdicts))
        return self.data

    def _verdict(self, means: dict, key: str, hib: bool) -> Optional[dict]:
        ours = {m: v for m, v in means.items() if m in self.allspark}
        baselines = {m: v for m, v in means.items() if m not in self.allspark}
        if not ours or not baselines:
            return None
        pick = max if hib else min
        strongest = pick(baselines, key=baselines.get)
        out = dict(metric=key, higher_is_better=hib, strongest_baseline=strongest,
                   strongest_baseline_mean=baselines[strongest], allspark_means=ours)
        for m, v in ours.items():
            out[f'{m}_beats_strongest'] = bool(v > baselines[strongest] if hib
                                               else v < baselines[strongest])
        out['beats_strongest_baseline'] = bool(out[f'{self.allspark[0]}_beats_strongest']
                                               if self.allspark[0] in ours else False)
        return out

    def write(self, path: Optional[str] = None, complete: bool = True) -> str:
        """Summarise and write the JSON (to ``path``, default the ``out`` one); returns its
        path.  ``complete=False``: a partial report written while the benchmark runs."""
        path = path or self.autosave
        if path is None:
            raise ValueError('BenchmarkReport.write: no path (and no out= given)')
        self.summarise()
        self.data['complete'] = complete
        self.data['finished'] = time.strftime('%Y-%m-%d %H:%M:%S %Z') if complete else None
        return write_json(path, self.data)

    def table(self) -> str:
        """A Markdown table of the primary metric: one row per split and model (mean ± std)."""
        key = self.data['primary_metric']
        lines = [f'| {self.data["split_kind"]} | model | {key} mean ± std (n) |', '|---|---|---|']
        for entry in self.data['splits'].values():
            for m, agg in entry.get('aggregate', {}).items():
                if key in agg:
                    a = agg[key]
                    std = '' if math.isnan(a['std']) else f' ± {a["std"]:.4g}'
                    lines.append(f'| {entry["label"]} | {m} | {a["mean"]:.4g}{std} ({a["n"]}) |')
        return '\n'.join(lines)


def write_json(path: str, data: dict) -> str:
    """Write ``data`` (numpy values allowed) as indented JSON, creating the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(_plain(data), f, indent=1)
    return path


def _plain(value: Any) -> Any:
    """JSON-able copy (numpy scalars/arrays, tuples, non-finite floats kept as floats)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if hasattr(value, 'item') and callable(value.item) and getattr(value, 'ndim', 1) == 0:
        return value.item()
    return value


# --------------------------------------------------------------------------- AllSpark runs
def ensure_default_scope(scope: str = 'allspark') -> None:
    """Registries resolve plain type names in ``scope`` outside a runner too (a benchmark
    builds its baselines' datasets, with their transforms, before any runner exists)."""
    from mmengine.registry import DefaultScope

    if DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance(f'allspark_benchmark_{os.getpid()}', scope_name=scope)


def set_run_length(cfg, length: int, by_epoch: bool) -> None:
    """A shorter (or longer) run: ``max_epochs``/``max_iters`` = ``length``, with validation
    and checkpoint intervals to match (in place).  The parameter schedule follows the run length
    in the core's ``prepare_config`` (``allspark.engine.runner.scale_schedule_to_run``), so a
    short run still ends at the schedule's final learning rate."""
    cfg.train_cfg['max_epochs' if by_epoch else 'max_iters'] = int(length)
    if 'val_interval' in cfg.train_cfg:
        cfg.train_cfg.val_interval = int(length)
    ckpt = (cfg.get('default_hooks') or {}).get('checkpoint')
    if ckpt:
        ckpt['interval'] = int(length)


def prepare_allspark_config(config: str, data_root: Optional[str] = None,
                            seed: Optional[int] = None, max_iters: Optional[int] = None,
                            max_epochs: Optional[int] = None, smoke: bool = False,
                            cfg_options: Optional[dict] = None,
                            dataset_kwargs: Optional[dict] = None,
                            evaluate_during_training: bool = False,
                            keep_validation: bool = False):
    """Load ``config`` (a path or ``<plugin>::<file>.py``) for a benchmark run.

    ``data_root``: every dataset reads it (the core's ``--data-root`` rewrite).  ``seed``:
    ``randomness.seed``.  ``max_iters`` / ``max_epochs``: a shorter run (the core scales the
    schedule with it).  ``dataset_kwargs``: set on every dataloader's dataset.  ``smoke``: a
    tiny random language model, batch size at most 4, logging every iteration.  Validation
    during training is switched off unless asked (the benchmark tests once, after training);
    ``keep_validation`` keeps the validation loader for one ``runner.val()`` after training
    (model selection on the validation split, see :func:`select_on_validation`)."""
    from allspark.engine.runner import load_config

    cfg = load_config(config, cfg_options, data_root=data_root)
    ensure_default_scope()
    if dataset_kwargs:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key) and cfg[key].get('dataset') is not None:
                cfg[key].dataset.update(dataset_kwargs)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=int(seed))
    by_epoch = cfg.train_cfg.get('max_epochs') is not None
    if max_iters is not None and not by_epoch:
        set_run_length(cfg, max_iters, by_epoch=False)
    if max_epochs is not None and by_epoch:
        set_run_length(cfg, max_epochs, by_epoch=True)
    if keep_validation and not cfg.get('val_dataloader'):
        raise ValueError(f'{config}: selection on the validation split needs a val_dataloader, '
                         'and this config has none')
    if keep_validation:
        val, test = cfg.val_dataloader.get('dataset', {}), (cfg.get('test_dataloader') or
                                                            {}).get('dataset', {})
        if (val.get('split') == test.get('split') and val.get('data_root') == test.get(
                'data_root') and val.get('ann_file') == test.get('ann_file')):
            raise ValueError(f'{config}: its validation split is its test split '
                             f'({val.get("data_root")}, split={val.get("split")!r}); choosing '
                             'settings on it would use test data. Give the config a '
                             'validation split cut from the training data')
        run = cfg.train_cfg.get('max_epochs') or cfg.train_cfg.get('max_iters')
        cfg.train_cfg.val_interval = int(run) + 1  # never during training: once, after it
        cfg.val_cfg = cfg.get('val_cfg') or dict()
    elif not evaluate_during_training:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.train_cfg.pop('val_interval', None)
        cfg.train_cfg.pop('val_begin', None)
    if smoke:
        from allspark.testing import tiny_language_model_cfg

        cfg.model.language_model = tiny_language_model_cfg()
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                cfg[key].batch_size = min(int(cfg[key].batch_size), 4)
                cfg[key].num_workers = 0
                cfg[key].pop('persistent_workers', None)
    return cfg


def train_and_test(cfg, work_dir: str, test: bool = True) -> dict:
    """Train through ``build_runner`` then (``test``) run ``runner.test()`` once.

    Returns ``{'runner', 'train_s', 'metrics', 'test_s', 'params_trainable', 'params_total'}``."""
    from allspark.engine.runner import build_runner

    runner = build_runner(cfg, work_dir=work_dir)
    with Timer() as t_train:
        runner.train()
    out = dict(runner=runner, train_s=t_train.seconds,
               params_trainable=sum(p.numel() for p in runner.model.parameters()
                                    if p.requires_grad),
               params_total=sum(p.numel() for p in runner.model.parameters()))
    if test:
        with Timer() as t_test:
            out['metrics'] = {k: _plain(v) for k, v in runner.test().items()}
        out['test_s'] = t_test.seconds
    return out


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--select KEY=V1,V2 ...``: a grid of AllSpark config values chosen on the validation
    split (cut from the training data), never on the test split."""
    parser.add_argument('--select', nargs='+', default=[], metavar='KEY=V1,V2',
                        help='choose these config values per split on its validation split '
                             '(training data only), then test the chosen setting once per seed')
    parser.add_argument('--select-metric', default=None,
                        help='validation metric that decides (default: the primary metric)')


def parse_grid(items: Sequence[str]) -> dict[str, list]:
    """``['a.b=1,2', 'c=x,y']`` -> ``{'a.b': [1, 2], 'c': ['x', 'y']}`` (Python literals where
    they parse, strings otherwise)."""
    import ast

    grid = {}
    for item in items:
        key, sep, values = item.partition('=')
        if not sep or not key or not values:
            raise ValueError(f'--select expects KEY=V1,V2,..., got {item!r}')
        parsed = []
        for v in values.split(','):
            try:
                parsed.append(ast.literal_eval(v))
            except (ValueError, SyntaxError):
                parsed.append(v)
        grid[key] = parsed
    return grid


def grid_candidates(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values (``[{}]`` for an empty grid)."""
    import itertools

    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def select_on_validation(candidates: Sequence[dict], evaluate: Callable[[dict], dict],
                         metric: str, higher_is_better: bool,
                         data: str = 'the validation split (training data only)') -> tuple:
    """Score every candidate setting with ``evaluate(options) -> validation metrics`` and keep
    the best on ``metric``.  Returns ``(chosen options, record)``; the record (for the JSON) lists
    every candidate's validation metrics, the metric, the data used and the choice."""
    scored = []
    for options in candidates:
        metrics = {k: _plain(v) for k, v in evaluate(dict(options)).items()}
        if metric not in metrics:
            raise KeyError(f'select_on_validation: no {metric!r} in the validation metrics '
                           f'({sorted(metrics)})')
        scored.append(dict(options=dict(options), validation=metrics))
    pick = max if higher_is_better else min
    best = pick(scored, key=lambda c: c['validation'][metric])
    record = dict(method='grid search, each candidate trained once and scored on ' + data,
                  metric=metric, higher_is_better=higher_is_better, candidates=scored,
                  chosen=best['options'], test_data_used=False)
    return best['options'], record


def selection_record(allspark: str, baselines: str, **more: str) -> dict:
    """The model-selection record every report carries (how settings were chosen, on what)."""
    return dict(allspark=allspark, baselines=baselines, test_data_used_for_selection=False,
                **more)


# --------------------------------------------------------------------------- baseline loop
Data = Union[tuple, Any]


def _batches(data: Data, batch_size: int, shuffle: bool, generator, drop_last: bool,
             to_xy: Optional[Callable]) -> Iterator[tuple]:
    """``(x, y)`` batches from ``(x_array, y_array)`` or from a dataset (``allspark_collate``,
    then ``to_xy(batch)``)."""
    import torch

    if isinstance(data, tuple):
        x_all = torch.as_tensor(np.asarray(data[0]), dtype=torch.float32)
        y_all = torch.as_tensor(np.asarray(data[1]), dtype=torch.long)
        n = len(x_all)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        stop = n - n % batch_size if drop_last and n > batch_size else n
        for i in range(0, stop, batch_size):
            idx = order[i:i + batch_size]
            yield x_all[idx], y_all[idx]
        return
    from torch.utils.data import DataLoader

    from allspark.datasets.base import allspark_collate
    loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, num_workers=0,
                        drop_last=drop_last and len(data) > batch_size,
                        collate_fn=allspark_collate, generator=generator)
    for batch in loader:
        yield (to_xy or labelled_inputs())(batch)


def labelled_inputs(key: Optional[str] = None, transform: Optional[Callable] = None
                    ) -> Callable:
    """``batch -> (x, y)`` for an AllSpark batch: ``batch['inputs'][key]`` (the only key when
    ``key`` is None), through ``transform``, and the samples' ``gt_label``."""
    import torch

    def to_xy(batch: dict) -> tuple:
        inputs = batch['inputs']
        x = inputs[key] if key is not None else next(iter(inputs.values()))
        x = x.float()
        if transform is not None:
            x = transform(x)
        y = torch.as_tensor([int(s['gt_label']) for s in batch['data_samples']])
        return x, y
    return to_xy


def _num_batches(data: Data, batch_size: int, drop_last: bool) -> int:
    n = len(data[0]) if isinstance(data, tuple) else len(data)
    return max(1, n // batch_size if drop_last and n > batch_size else math.ceil(n / batch_size))


def train_classifier(model, data: Data, epochs: int, batch_size: int = 32, lr: float = 1e-3,
                     weight_decay: float = 0.05, optimizer: str = 'adamw',
                     warmup: float = 0.1, eta_min: float = 0.0, label_smoothing: float = 0.1,
                     seed: int = 0, augment: Optional[Callable] = None,
                     to_xy: Optional[Callable] = None, drop_last: bool = True,
                     time_budget_s: Optional[float] = None, name: str = 'baseline',
                     log: Optional[Callable[[str], None]] = print,
                     log_every: int = 5) -> dict:
    """The one training loop of every classic classification baseline.

    ``data``: ``(x (N, ...), y (N,))`` arrays (already normalised) or a dataset whose batches
    ``to_xy`` turns into ``(x, y)`` (default :func:`labelled_inputs`).  Optimiser ``'adamw'``
    or ``'adam'``; the learning rate rises linearly for the first ``warmup`` fraction of the run
    and then follows a cosine down to ``eta_min``.  The run is ``epochs`` epochs, or, with
    ``time_budget_s``, stops when that wall-clock budget is spent (at most ``epochs`` epochs),
    the schedule then following the elapsed fraction of the budget: "the same training time"
    as the model compared with, whatever the shared machine's speed.  ``augment(x)`` is applied
    to every training batch.  Seeded (weights must be initialised by the caller under the same
    seed).

    Returns ``{'train_time_s', 'epochs' (fractional), 'iters', 'samples_seen', 'final_loss',
    'final_train_accuracy'}``."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == 'adamw':
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == 'adam':
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"train_classifier: optimizer must be 'adamw' or 'adam', got "
                         f'{optimizer!r}')
    total_iters = epochs * _num_batches(data, batch_size, drop_last)

    def lr_at(frac: float) -> float:
        if warmup > 0 and frac < warmup:
            return lr * max(frac / warmup, 1.0 / max(total_iters, 1))
        rest = (frac - warmup) / max(1e-12, 1 - warmup)
        return eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * min(rest, 1.0)))

    start = time.perf_counter()
    it = seen = 0
    loss_val = acc_val = float('nan')
    n_data = len(data[0]) if isinstance(data, tuple) else len(data)
    for epoch in range(epochs):
        model.train()
        total, correct, loss_sum, stop = 0, 0, 0.0, False
        for x, y in _batches(data, batch_size, True, gen, drop_last, to_xy):
            frac = ((time.perf_counter() - start) / time_budget_s if time_budget_s
                    else it / max(total_iters, 1))
            if frac >= 1.0:
                stop = True
                break
            for group in opt.param_groups:
                group['lr'] = lr_at(frac)
            if augment is not None:
                x = augment(x)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            it += 1
            seen += len(y)
            loss_sum += loss.item() * len(y)
            total += len(y)
            correct += int((logits.argmax(1) == y).sum())
        if total:
            loss_val, acc_val = loss_sum / total, 100.0 * correct / total
            if log and ((epoch + 1) % log_every == 0 or epoch == epochs - 1 or stop):
                log(f'  {name} epoch {epoch + 1}/{epochs}: loss {loss_val:.4f} train acc '
                    f'{acc_val:.1f}% ({time.perf_counter() - start:.0f} s)')
        if stop:
            break
    return dict(train_time_s=time.perf_counter() - start, epochs=seen / max(n_data, 1),
                iters=it, samples_seen=seen, final_loss=loss_val,
                final_train_accuracy=acc_val, optimizer=optimizer, lr=lr,
                batch_size=batch_size, time_budget_s=time_budget_s)


def predict_classifier(model, data: Data, batch_size: int = 64,
                       to_xy: Optional[Callable] = None) -> dict:
    """Predicted labels of ``data`` (arrays ``(x, y)`` or a dataset, as in
    :func:`train_classifier`).  Returns ``{'gt', 'pred', 'seconds' (model forward time),
    'samples_per_s'}``."""
    import torch

    model.eval()
    gts, preds, seconds = [], [], 0.0
    with torch.no_grad():
        for x, y in _batches(data, batch_size, False, None, False, to_xy):
            t0 = time.perf_counter()
            logits = model(x)
            seconds += time.perf_counter() - t0
            preds.append(logits.argmax(1).numpy())
            gts.append(np.asarray(y))
    gt, pred = np.concatenate(gts), np.concatenate(preds)
    return dict(gt=gt, pred=pred, seconds=seconds, samples_per_s=throughput(len(gt), seconds))


def predict_test_labels(runner) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-sample ``(gt_label, pred_label)`` of a trained classifier on its runner's test
    loader, and the seconds inference took (for a throughput figure): what the metric's
    aggregate does not keep."""
    import torch

    model = runner.model
    model.eval()
    batches = list(runner.test_dataloader)  # loading is not part of the timed inference
    gt, pred = [], []
    with Timer() as t, torch.no_grad():
        for batch in batches:
            for out in model.test_step(batch):
                gt.append(int(out['gt_label']))
                pred.append(int(out['pred_label']))
    return np.asarray(gt), np.asarray(pred), t.seconds


def classification_summary(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> dict:
    """OA with its Wilson interval, mean class accuracy, kappa, counts."""
    from allspark.evaluation.classification import classification_scores, confusion_matrix

    cm = confusion_matrix(np.asarray(gt), np.asarray(pred), num_classes)
    scores = dict(classification_scores(cm))
    correct = int(np.trace(cm))
    scores.update(correct=correct, total=int(cm.sum()),
                  accuracy_ci95_wilson=wilson_ci(correct, int(cm.sum())))
    return scores


def iter_splits(names: Iterable[str]) -> Iterator[str]:
    """Print-friendly iteration over a protocol's splits."""
    for name in names:
        print(f'[benchmark] ==== {name} ====', flush=True)
        yield name


def log_to(prefix: str) -> Callable[[str], None]:
    """A ``log(msg)`` that prints ``[prefix HH:MM:SS] msg`` (flushed)."""
    def log(msg: str) -> None:
        print(f'[{prefix} {time.strftime("%H:%M:%S")}] {msg}', flush=True)
    return log


