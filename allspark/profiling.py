"""``allspark benchmark CONFIG [CONFIG ...]``: where a config's time goes on this machine.

For each config, on in-memory batches of its own training data (warm-up, then many repetitions;
medians with the inter-quartile range, never one timing):

* **training step**: a minimal hand-written PyTorch loop (preprocess, forward, backward, step)
  and the project's training path (the Runner's loop: hooks, logging, schedulers, optimizer
  wrapper) on the *same* model and batches, interleaved A B A B; their ratio is the framework
  overhead (guard: <= 1.05, ``--check-overhead`` makes a breach the exit status);
* **inference** samples/s (``test_step``, the config's evaluation precision);
* **peak memory** (RSS on a CPU, allocated memory on a GPU);
* **component split** of forward+backward: encoder(s), bridge(s), language model, head and the
  rest (data preprocessing, sequence assembly, loss); each component is replayed alone on the
  inputs it saw in a real step, with its real ``requires_grad`` pattern;
* **FLOPs** per component (``torch.utils.flop_counter``) and achieved GFLOP/s against the
  machine's **matmul limit**, measured here for float32 and bfloat16 at the step's own GEMM
  shapes (the limit is the step's GEMM FLOPs over the time those GEMMs take alone);
* **loader** samples/s with 0/1/2 workers against the model's consumption.

Prints a table and writes ``<out>/<config>.json``.  On a GPU, timings use CUDA events.

    allspark benchmark configs/quickstart.py sar::mstar_cpu.py --out work_dirs/benchmarks
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable, Optional, Sequence

import torch

OVERHEAD_GUARD = 1.05
GEMM_OPS = ('mm', 'addmm', 'bmm', 'baddbmm')


# --------------------------------------------------------------------------- timing helpers
def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds one call takes (CUDA events on a GPU)."""
    if device.type == 'cuda':
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end) / 1e3
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def summarize(times: Sequence[float]) -> dict:
    """Median, quartiles, min and count of ``times`` (seconds)."""
    times = sorted(times)
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4)
    else:
        q1 = q3 = times[0]
    return dict(median=statistics.median(times), q1=q1, q3=q3, min=times[0], n=len(times))


def repeat(fn: Callable[[], Any], device: torch.device, reps: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    _sync(device)
    return summarize([time_call(fn, device) for _ in range(reps)])


def peak_memory_mb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _register_cpu_attention_flops() -> None:
    """torch's flop counter has formulas for the CUDA fused attention kernels but not for the
    CPU one (``_scaled_dot_product_flash_attention_for_cpu`` and its backward), so SDPA on a CPU
    counted 0 FLOPs; give them the same formulas as the CUDA flash kernel (once per process)."""
    from torch.utils import flop_counter as fc

    aten = torch.ops.aten
    fwd = getattr(aten, '_scaled_dot_product_flash_attention_for_cpu', None)
    bwd = getattr(aten, '_scaled_dot_product_flash_attention_for_cpu_backward', None)
    if fwd is not None and fwd not in fc.flop_registry:
        @fc.register_flop_formula(fwd)
        def _fwd(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
            return fc.sdpa_flop_count(query_shape, key_shape, value_shape)
    if bwd is not None and bwd not in fc.flop_registry:
        @fc.register_flop_formula(bwd)
        def _bwd(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,
                 **kwargs) -> int:
            return fc.sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape,
                                               value_shape)


def count_flops(fn: Callable[[], Any]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    _register_cpu_attention_flops()
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


# --------------------------------------------------------------------------- matmul limit
def record_gemms(fn: Callable[[], Any]) -> dict:
    """``{(op, batch, m, k, n): count}`` of the GEMMs ``fn`` runs."""
    from torch.utils._python_dispatch import TorchDispatchMode

    found: dict = {}

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if name in GEMM_OPS:
                a, b = (args[1], args[2]) if name in ('addmm', 'baddbmm') else (args[0], args[1])
                batch = a.shape[0] if a.dim() == 3 else 1
                key = (name, batch, a.shape[-2], a.shape[-1], b.shape[-1])
                found[key] = found.get(key, 0) + 1
            return func(*args, **(kwargs or {}))

    with Recorder():
        fn()
    return found


def matmul_limit(gemms: dict, device: torch.device, reps: int = 5) -> dict:
    """The step's GEMMs alone, in float32 and bfloat16: GFLOP/s = their FLOPs / their time."""
    out = {}
    total_flops = sum(2 * b * m * k * n * c for (_, b, m, k, n), c in gemms.items())
    for dtype in (torch.float32, torch.bfloat16):
        seconds, shapes = 0.0, []
        for (_, batch, m, k, n), count in sorted(gemms.items(), key=lambda kv: -kv[1]):
            a = torch.randn(batch, m, k, device=device, dtype=dtype)
            b = torch.randn(batch, k, n, device=device, dtype=dtype)
            stats = repeat(lambda: torch.bmm(a, b), device, reps=reps, warmup=1)
            seconds += stats['median'] * count
            shapes.append(dict(shape=[batch, m, k, n], calls=count,
                               gflops=2 * batch * m * k * n / stats['median'] / 1e9))
        name = str(dtype).replace('torch.', '')
        out[name] = dict(gflops=total_flops / seconds / 1e9 if seconds else None,
                         gemm_seconds=seconds, shapes=shapes)
    out['gemm_flops'] = total_flops
    return out


# --------------------------------------------------------------------------- the steps
def _loss_sum(losses: dict) -> torch.Tensor:
    total = 0
    for key, value in losses.items():
        if 'loss' in key:
            total = total + (sum(value) if isinstance(value, (list, tuple)) else value)
    return total


class HandLoop:
    """The minimal PyTorch training step: what the Runner path is compared with."""

    def __init__(self, model, optimizer, bf16: bool, device: torch.device,
                 max_norm: Optional[float] = None):
        self.model, self.optimizer, self.bf16, self.device = model, optimizer, bf16, device
        self.max_norm = max_norm
        self.params = [p for p in model.parameters() if p.requires_grad]

    def forward_backward(self, batch) -> None:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            data = self.model.data_preprocessor(batch, True)
            losses = self.model(**data, mode='loss')
        _loss_sum(losses).backward()

    def step(self, batch) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.forward_backward(batch)
        if self.max_norm:
            torch.nn.utils.clip_grad_norm_(self.params, self.max_norm)
        self.optimizer.step()


def compare_precisions(model, optimizer, batches: Sequence, test_batches: Sequence,
                       device: torch.device, max_norm: Optional[float], rounds: int,
                       iters: int) -> dict:
    """float32 vs bfloat16 autocast (float32 master weights) on the *same* model, optimizer and
    batches, interleaved A B A B in one process, so that a drift in the machine's load hits both
    precisions alike (separate runs on a shared machine moved by -37 % to +49 %).  Hand-loop
    training steps, and ``test_step`` when ``test_batches`` are given.  The attention
    implementation follows the dtype per call, as in training (``allspark.engine.precision``).
    The weights keep training between the timed steps: the figures are speeds, not accuracy."""
    loops = {'float32': HandLoop(model, optimizer, False, device, max_norm),
             'bfloat16': HandLoop(model, optimizer, True, device, max_norm)}

    def infer(bf16: bool, j: int) -> None:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            model.test_step(test_batches[j % len(test_batches)])

    result: dict = {}
    jobs = {'train_step': lambda name, j: loops[name].step(batches[j % len(batches)])}
    if test_batches:
        jobs['inference'] = lambda name, j: infer(name == 'bfloat16', j)
    for job, fn in jobs.items():
        if job == 'inference':
            model.eval()
        try:
            for name in loops:  # warm-up: oneDNN builds its kernels per dtype and shape
                fn(name, 0)
        except RuntimeError as exc:
            if job == 'train_step':
                raise
            # e.g. a ProtoNet head: it predicts only after prototypes are set (episodes)
            model.train()
            result[job] = dict(not_applicable=str(exc).splitlines()[0])
            continue
        times: dict = {name: [] for name in loops}
        j = 0
        for _ in range(rounds):
            for name in loops:
                for _ in range(iters):
                    times[name].append(time_call(lambda name=name, j=j: fn(name, j), device))
                    j += 1
        model.train()
        stats = {name: summarize(t) for name, t in times.items()}
        result[job] = dict(stats, speedup=stats['float32']['median']
                           / stats['bfloat16']['median'])
    return result


def batch_size_of(batch) -> int:
    samples = batch.get('data_samples') if isinstance(batch, dict) else None
    if samples is not None:
        return len(samples)
    inputs = batch['inputs']
    first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
    return len(first)


# --------------------------------------------------------------------------- component split
class _Capture:
    """Records the inputs of each component's calls during one forward."""

    def __init__(self, model):
        self.calls: dict[str, list] = {}
        self.handles = []
        self.model = model
        for name, module in self.components().items():
            self.handles.append(module.register_forward_pre_hook(self._hook(name),
                                                                 with_kwargs=True))
        self._head_loss = model.head.loss
        model.head.loss = self._wrap_head(model.head.loss)

    def components(self) -> dict:
        comps = {}
        for name, enc in self.model.encoders.items():
            comps[f'encoder.{name}'] = enc
        for name, bridge in self.model.bridges.items():
            comps[f'bridge.{name}'] = bridge
        comps['language_model'] = self.model.language_model
        return comps

    @staticmethod
    def _keep(x):
        if isinstance(x, torch.Tensor):
            return (x.detach().clone(), x.requires_grad)
        if isinstance(x, dict):
            return {k: _Capture._keep(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(_Capture._keep(v) for v in x)
        return x

    def _hook(self, name):
        def hook(module, args, kwargs):
            self.calls.setdefault(name, []).append((self._keep(args), self._keep(kwargs)))
        return hook

    def _wrap_head(self, loss_fn):
        def wrapped(features, data_samples):
            self.calls.setdefault('head', []).append(((self._keep(features), data_samples), {}))
            return loss_fn(features, data_samples)
        return wrapped

    def close(self):
        for h in self.handles:
            h.remove()
        self.model.head.loss = self._head_loss


def _restore(x):
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], torch.Tensor) \
            and isinstance(x[1], bool):
        t, grad = x
        t = t.clone()
        return t.requires_grad_(grad and t.is_floating_point())
    if isinstance(x, dict):
        return {k: _restore(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_restore(v) for v in x)
    return x


def _backward_output(out) -> None:
    if isinstance(out, dict):  # a head's losses
        loss = _loss_sum(out)
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        return
    tensor = out[0] if isinstance(out, (tuple, list)) else out
    if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
        tensor.backward(torch.randn_like(tensor))


def component_split(model, batch, bf16: bool, device: torch.device, reps: int,
                    warmup: int) -> dict:
    """forward+backward seconds and FLOPs of each component, replayed on its real inputs."""
    capture = _Capture(model)
    try:
        # Gradients on (graph discarded): under no_grad every captured input would read
        # requires_grad=False, and the frozen language model's backward (to its inputs, which
        # the trainable encoder and bridge need) would silently move into "rest".
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            data = model.data_preprocessor(batch, True)
            model(**data, mode='loss')
    finally:
        capture.close()
    model.zero_grad(set_to_none=True)
    modules = capture.components()
    modules['head'] = model.head
    result = {}
    for name, calls in capture.calls.items():
        module = modules[name]

        def replay(module=module, calls=calls, name=name):
            for args, kwargs in calls:
                args, kwargs = _restore(args), _restore(kwargs)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    out = module.loss(*args) if name == 'head' else module(*args, **kwargs)
                _backward_output(out)
        stats = repeat(replay, device, reps=reps, warmup=warmup)
        flops = count_flops(replay)
        model.zero_grad(set_to_none=True)
        result[name] = dict(seconds=stats, flops=flops, calls=len(calls))
    return result


# --------------------------------------------------------------------------- loader
def loader_throughput(runner_cls, loader_cfg: dict, workers: Sequence[int], batches: int,
                      seed: int = 0) -> dict:
    out = {}
    for w in workers:
        cfg = copy.deepcopy(loader_cfg)
        cfg['num_workers'] = w
        cfg['persistent_workers'] = False
        begin = time.perf_counter()
        loader = runner_cls.build_dataloader(cfg, seed=seed)
        it = iter(loader)
        try:
            next(it)
            first = time.perf_counter() - begin
            n, begin = 0, time.perf_counter()
            for _ in range(batches):
                n += batch_size_of(next(it))
        except StopIteration:
            pass
        elapsed = time.perf_counter() - begin
        out[str(w)] = dict(first_batch_seconds=first,
                           samples_per_s=n / elapsed if elapsed > 0 and n else None, samples=n)
        del it, loader
    return out


# --------------------------------------------------------------------------- one config
def _build(config: str, args) -> tuple:
    from mmengine.runner import Runner

    from allspark.engine.runner import load_config, prepare_config, setup

    setup()
    cfg = load_config(config, args.cfg_options or None)
    if args.data_root:
        cfg.data_root = args.data_root
    if args.tiny_lm:
        from allspark.testing import tiny_language_model_cfg
        cfg.model.language_model = tiny_language_model_cfg()
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.pop('persistent_workers', None)
    if args.precision != 'config':
        wrapper = dict(cfg.optim_wrapper)
        wrapper['type'] = 'AutocastOptimWrapper'
        wrapper['enabled'] = {'fp32': False, 'bf16': True, 'auto': 'auto'}[args.precision]
        cfg.optim_wrapper = wrapper
        for loop in ('val_cfg', 'test_cfg'):
            cfg[loop] = dict(cfg.get(loop) or {}, fp16=wrapper['enabled'])
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    test_loader_cfg = copy.deepcopy(cfg.get('test_dataloader') or cfg.train_dataloader)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=10 ** 9, val_interval=10 ** 9)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9, by_epoch=False,
                                        save_last=False)
    cfg.log_processor = dict(cfg.get('log_processor') or {}, by_epoch=False)
    cfg.param_scheduler = [s for s in (cfg.get('param_scheduler') or [])
                           if not s.get('by_epoch', True)] or None
    cfg.experiment_name = f'profile_{os.getpid()}_{time.time_ns()}'
    cfg = prepare_config(cfg, work_dir=os.path.join(args.out, 'work_dir'))
    runner = Runner.from_cfg(cfg)
    return runner, cfg, loader_cfg, test_loader_cfg, Runner


def _runner_path(runner, batches) -> Callable[[int], None]:
    """Returns ``step(i)``: one iteration of the Runner's own loop (hooks, logging, wrapper)."""
    loop = runner.build_train_loop(runner._train_loop) if isinstance(runner._train_loop, dict) \
        else runner._train_loop
    runner._train_loop = loop
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    if runner.param_schedulers is not None:
        runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    runner.optim_wrapper.initialize_count_status(runner.model, 0, loop.max_iters)
    runner.call_hook('before_run')
    runner.call_hook('before_train')
    runner.call_hook('before_train_epoch')
    runner.model.train()

    def step(i: int) -> None:
        loop.run_iter(batches[i % len(batches)])
    return step


def profile_config(config: str, args) -> dict:
    from allspark.engine.optim import AutocastOptimWrapper

    runner, cfg, loader_cfg, test_loader_cfg, runner_cls = _build(config, args)
    model = runner.model
    device = next(model.parameters()).device
    loader = runner_cls.build_dataloader(loader_cfg, seed=0)
    it = iter(loader)
    batches = []
    for _ in range(args.num_batches):
        try:
            batches.append(next(it))
        except StopIteration:
            break
    del it
    stats = getattr(loader.dataset, 'stats', None)
    if callable(stats) and hasattr(model, 'apply_dataset_stats'):
        model.apply_dataset_stats(stats())
    bs = batch_size_of(batches[0])
    runner_step = _runner_path(runner, batches)
    wrapper = runner.optim_wrapper
    bf16 = isinstance(wrapper, AutocastOptimWrapper) and wrapper.enabled
    clip = (cfg.optim_wrapper.get('clip_grad') or {}).get('max_norm')
    hand = HandLoop(model, wrapper.optimizer, bf16, device, clip)
    report: dict = dict(config=config, batch_size=bs, device=str(device),
                        training_precision='bfloat16' if bf16 else 'float32',
                        trainable_parameters=sum(p.numel() for p in model.parameters()
                                                 if p.requires_grad),
                        parameters=sum(p.numel() for p in model.parameters()),
                        # frozen linear layers whose bfloat16 cast is kept between calls
                        cast_caching_linears=sum(type(m).__name__ == 'CastCachingLinear'
                                                 for m in model.modules()))

    # --- training step: hand loop (A) vs the Runner path (B), interleaved
    for i in range(args.warmup):
        hand.step(batches[i % len(batches)])
        runner_step(i)
    times = {'hand': [], 'runner': []}
    i = 0
    for _ in range(args.rounds):
        for name, fn in (('hand', lambda j: hand.step(batches[j % len(batches)])),
                         ('runner', runner_step)):
            for _ in range(args.iters):
                times[name].append(time_call(lambda: fn(i), device))
                i += 1
    hand_s, runner_s = summarize(times['hand']), summarize(times['runner'])
    ratio = runner_s['median'] / hand_s['median']
    report['train_step'] = dict(hand=hand_s, runner=runner_s,
                                samples_per_s=bs / runner_s['median'],
                                overhead_ratio=ratio, overhead_guard=OVERHEAD_GUARD,
                                overhead_ok=ratio <= OVERHEAD_GUARD)
    report['peak_memory_mb_after_training'] = peak_memory_mb(device)
    if args.compare_precisions:
        test_it = iter(runner_cls.build_dataloader(dict(test_loader_cfg, num_workers=0,
                                                        persistent_workers=False), seed=0))
        test_batches = [b for b, _ in zip(test_it, range(args.num_batches))]
        del test_it
        report['precision_comparison'] = compare_precisions(
            model, wrapper.optimizer, batches, test_batches, device, clip, args.rounds,
            args.iters)

    # --- FLOPs, components, matmul limit
    step_flops = count_flops(lambda: hand.forward_backward(batches[0]))
    model.zero_grad(set_to_none=True)
    fwd_bwd = repeat(lambda: (hand.forward_backward(batches[0]),
                              model.zero_grad(set_to_none=True)),
                     device, reps=args.iters, warmup=1)
    parts = component_split(model, batches[0], bf16, device, reps=args.iters, warmup=1)
    measured = sum(p['seconds']['median'] for p in parts.values())
    # Components replayed alone should add up to at most the step; well above it means the
    # timings were disturbed (another process on the cores): the report says so.
    replay_sum_share = measured / fwd_bwd['median'] if fwd_bwd['median'] else None
    parts['rest (preprocess, sequence assembly, loss)'] = dict(
        seconds=dict(median=max(fwd_bwd['median'] - measured, 0.0)),
        flops=max(step_flops - sum(p['flops'] for p in parts.values()), 0), calls=1)
    gemms = record_gemms(lambda: hand.forward_backward(batches[0]))
    model.zero_grad(set_to_none=True)
    limit = matmul_limit(gemms, device) if not args.skip_limit else {}
    dtype_key = 'bfloat16' if bf16 else 'float32'
    limit_gflops = (limit.get(dtype_key) or {}).get('gflops')
    for part in parts.values():
        sec = part['seconds']['median']
        part['share'] = sec / fwd_bwd['median'] if fwd_bwd['median'] else None
        part['gflops'] = part['flops'] / sec / 1e9 if sec > 0 else None
        part['of_limit'] = (part['gflops'] / limit_gflops
                            if part['gflops'] and limit_gflops else None)
    report['forward_backward'] = dict(seconds=fwd_bwd, flops=step_flops,
                                      gflops=step_flops / fwd_bwd['median'] / 1e9,
                                      of_limit=(step_flops / fwd_bwd['median'] / 1e9
                                                / limit_gflops) if limit_gflops else None,
                                      components=parts,
                                      replay_sum_share=replay_sum_share)
    report['matmul_limit'] = limit

    # --- inference
    eval_bf16 = bool((cfg.get('test_cfg') or {}).get('fp16', False))
    test_loader = runner_cls.build_dataloader(dict(test_loader_cfg, num_workers=0,
                                                   persistent_workers=False), seed=0)
    it = iter(test_loader)
    test_batches = [next(it) for _ in range(min(args.num_batches, len(test_loader)))]
    del it
    model.eval()

    def infer(j=[0]):
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16,
                                             enabled=eval_bf16 and device.type == 'cpu'):
            model.test_step(test_batches[j[0] % len(test_batches)])
        j[0] += 1
    try:
        inf = repeat(infer, device, reps=args.iters, warmup=1)
        report['inference'] = dict(seconds=inf, batch_size=batch_size_of(test_batches[0]),
                                   samples_per_s=batch_size_of(test_batches[0]) / inf['median'],
                                   precision='bfloat16' if eval_bf16 else 'float32')
    except RuntimeError as exc:
        # e.g. a ProtoNet head: it predicts only after prototypes are set (few-shot episodes)
        report['inference'] = dict(samples_per_s=None, not_applicable=str(exc).splitlines()[0],
                                   precision='bfloat16' if eval_bf16 else 'float32')
    model.train()
    report['peak_memory_mb'] = peak_memory_mb(device)

    # --- loader vs model
    if args.workers:
        loaders = loader_throughput(runner_cls, loader_cfg, args.workers, args.loader_batches)
        consumption = report['train_step']['samples_per_s']
        for rec in loaders.values():
            rec['vs_model'] = (rec['samples_per_s'] / consumption
                               if rec['samples_per_s'] else None)
        report['loader'] = dict(workers=loaders, model_samples_per_s=consumption)
    return report


# --------------------------------------------------------------------------- output
def format_report(r: dict) -> str:
    ms = lambda s: f"{s['median'] * 1e3:.1f} ms"  # noqa: E731
    ts = r['train_step']
    lines = [f"== {r['config']}  (batch {r['batch_size']}, {r['training_precision']}, "
             f"{r['device']}, {r['trainable_parameters'] / 1e6:.2f}M of "
             f"{r['parameters'] / 1e6:.2f}M parameters train)",
             f"training step   runner {ms(ts['runner'])} [IQR {ts['runner']['q1'] * 1e3:.1f}-"
             f"{ts['runner']['q3'] * 1e3:.1f}, n={ts['runner']['n']}]   hand loop "
             f"{ms(ts['hand'])}   overhead x{ts['overhead_ratio']:.3f} "
             f"({'ok' if ts['overhead_ok'] else 'ABOVE'} guard {ts['overhead_guard']})   "
             f"{ts['samples_per_s']:.1f} samples/s",
             f"inference       {_rate(r['inference']['samples_per_s'])} samples/s "
             f"({r['inference']['precision']})   peak memory {r['peak_memory_mb']:.0f} MB"]
    for job, c in (r.get('precision_comparison') or {}).items():
        if 'speedup' in c:
            lines.append(f"{job.replace('_', ' '):<16}float32 {ms(c['float32'])} vs bfloat16 "
                         f"{ms(c['bfloat16'])} (hand loop, interleaved): x{c['speedup']:.2f}")
    fb = r['forward_backward']
    lim = r.get('matmul_limit') or {}
    lim_txt = ', '.join(f"{k} {v['gflops']:.1f}" for k, v in lim.items()
                        if isinstance(v, dict) and v.get('gflops'))
    lines.append(f"forward+backward {ms(fb['seconds'])}  {fb['flops'] / 1e9:.2f} GFLOP  "
                 f"{fb['gflops']:.1f} GFLOP/s   matmul limit (GFLOP/s): {lim_txt or 'skipped'}")
    lines.append(f"  {'component':<44}{'time':>10}{'share':>8}{'GFLOP':>9}{'GFLOP/s':>9}"
                 f"{'of limit':>9}")
    for name, p in fb['components'].items():
        fmt = lambda v, f: (f.format(v) if v is not None else '-')  # noqa: E731
        lines.append(f"  {name:<44}{p['seconds']['median'] * 1e3:>8.1f}ms"
                     f"{fmt(p['share'] and 100 * p['share'], '{:>7.1f}%')}"
                     f"{p['flops'] / 1e9:>9.2f}{fmt(p['gflops'], '{:>9.1f}')}"
                     f"{fmt(p['of_limit'], '{:>9.2f}')}")
    replay = fb.get('replay_sum_share')
    if replay is not None and replay > 1.15:
        lines.append(f"  note: the components replayed alone add up to {100 * replay:.0f} % of the "
                     f"step: timings disturbed (machine load?), read the split with care")
    if 'loader' in r:
        parts = [f"{w} workers {v['samples_per_s']:.0f}/s (x{v['vs_model']:.1f})"
                 for w, v in r['loader']['workers'].items() if v['samples_per_s']]
        lines.append(f"loader          {'; '.join(parts)} vs model "
                     f"{r['loader']['model_samples_per_s']:.1f}/s")
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(prog='allspark benchmark', description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+', help='config files or <plugin>::<file>.py')
    p.add_argument('--iters', type=int, default=10, help='timed repetitions per block')
    p.add_argument('--rounds', type=int, default=4, help='A B rounds of the overhead check')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    p.add_argument('--num-batches', type=int, default=4, help='in-memory batches cycled')
    p.add_argument('--batch-size', type=int, default=None, help='override the training batch')
    p.add_argument('--precision', choices=('config', 'fp32', 'bf16', 'auto'), default='config',
                   help='training/evaluation precision (default: what the config says)')
    p.add_argument('--workers', type=int, nargs='*', default=[0, 1, 2],
                   help='loader workers to measure (none: skip)')
    p.add_argument('--loader-batches', type=int, default=10)
    p.add_argument('--skip-limit', action='store_true', help='do not measure the matmul limit')
    p.add_argument('--compare-precisions', action='store_true',
                   help='also time float32 against bfloat16 on the same model and batches, '
                        'interleaved (training step and inference)')
    p.add_argument('--tiny-lm', action='store_true',
                   help='a tiny random language model (smoke tests; figures meaningless)')
    p.add_argument('--data-root', default=None)
    p.add_argument('--threads', type=int, default=1, help='torch threads (default 1)')
    p.add_argument('--out', default='work_dirs/benchmarks', help='folder for the JSON')
    p.add_argument('--check-overhead', action='store_true',
                   help=f'exit 1 when the overhead ratio exceeds {OVERHEAD_GUARD}')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p


def _rate(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:.1f}'


def _component_shares(fb: dict) -> str:
    groups = {'enc': 0.0, 'bridge': 0.0, 'LM': 0.0, 'head': 0.0, 'rest': 0.0}
    for name, part in fb['components'].items():
        key = ('enc' if name.startswith('encoder') else 'bridge' if name.startswith('bridge')
               else 'LM' if name == 'language_model' else 'head' if name == 'head' else 'rest')
        groups[key] += part.get('share') or 0.0
    return ' / '.join(f'{100 * v:.0f}' for v in groups.values())


def markdown_summary(folders: Sequence[str], alt_folder: Optional[str] = None) -> str:
    """One Markdown row per profile JSON in ``folders`` (``allspark benchmark --summarize``);
    with ``alt_folder``, the same configs profiled at the other precision give a speed-up
    column (step time at the config's precision / at the other)."""
    import glob

    alt = {}
    if alt_folder:
        for path in glob.glob(os.path.join(alt_folder, '*.json')):
            with open(path) as f:
                r = json.load(f)
            alt[r['config']] = r
    rows = ['| config | precision, batch | training step ms [IQR] | samples/s train / infer '
            '| peak MB | fwd+bwd split % enc / bridge / LM / head / rest | GFLOP/s step '
            '(limit fp32, bf16) | overhead runner / hand | loader 0 / 1 / 2 workers vs model '
            '| other precision: step ms (speed-up) |',
            '|---|---|---|---|---|---|---|---|---|---|']
    paths = sorted(p for folder in folders for p in glob.glob(os.path.join(folder, '*.json')))
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        ts, fb, lim = r['train_step'], r['forward_backward'], r.get('matmul_limit') or {}
        runner = ts['runner']
        limits = ', '.join(f"{(lim.get(k) or {}).get('gflops', 0):.0f}"
                           for k in ('float32', 'bfloat16')) if lim else 'not measured'
        loader = '-'
        if 'loader' in r:
            loader = ' / '.join(f"{v['vs_model']:.0f}x" if v.get('vs_model') else '-'
                                for v in r['loader']['workers'].values())
        other = '-'
        both = (r.get('precision_comparison') or {}).get('train_step')
        if both:
            other = (f"fp32 {both['float32']['median'] * 1e3:.0f} / bf16 "
                     f"{both['bfloat16']['median'] * 1e3:.0f} (x{both['speedup']:.2f}, "
                     'interleaved)')
        elif r['config'] in alt:
            a = alt[r['config']]['train_step']['runner']['median']
            other = (f"{alt[r['config']]['training_precision']} {a * 1e3:.0f} "
                     f"(x{runner['median'] / a:.2f})")
        flag = ' (disturbed)' if (fb.get('replay_sum_share') or 0) > 1.15 else ''
        rows.append(
            f"| `{r['config']}` | {r['training_precision']}, {r['batch_size']} | "
            f"{runner['median'] * 1e3:.0f} [{runner['q1'] * 1e3:.0f}-{runner['q3'] * 1e3:.0f}] | "
            f"{ts['samples_per_s']:.1f} / {_rate(r['inference']['samples_per_s'])} | "
            f"{r['peak_memory_mb']:.0f} | {_component_shares(fb)}{flag} | "
            f"{fb['gflops']:.1f} ({limits}) | {ts['overhead_ratio']:.3f} | {loader} | {other} |")
    return '\n'.join(rows)


# --------------------------------------------------------------------------- start-up
_STARTUP_PROBES = {
    'import torch': 'import torch',
    'allspark plugins': ('import io, contextlib\n'
                         'from allspark.commands import plugins\n'
                         'with contextlib.redirect_stdout(io.StringIO()):\n'
                         '    plugins.main([])'),
    # what a hand-written script with the same model pays: the config's model (language model
    # included) and its first training batch, no Runner, hooks, logging or work directory
    'model and first batch, hand-written (no Runner)': (
        'import sys\n'
        'import torch\n'
        'from allspark import plugins\n'
        'from allspark.config import load_config\n'
        'from allspark.datasets import allspark_collate\n'
        'from allspark.registry import DATASETS, MODELS\n'
        'plugins.load_plugins()\n'
        'cfg = load_config(sys.argv[1])\n'
        'model = MODELS.build(cfg.model).train()\n'
        'loader = torch.utils.data.DataLoader(\n'
        '    DATASETS.build(cfg.train_dataloader.dataset), shuffle=True,\n'
        '    batch_size=cfg.train_dataloader.batch_size, collate_fn=allspark_collate)\n'
        'batch = next(iter(loader))\n'),
    'training start (to the first iteration)': (
        'import sys, tempfile\n'
        'from allspark.engine.runner import build_runner, load_config\n'
        'from mmengine.hooks import Hook\n'
        'class _First(Exception):\n'
        '    pass\n'
        'class _StopAtFirstIteration(Hook):\n'
        '    def before_train_iter(self, runner, batch_idx, data_batch=None):\n'
        '        raise _First\n'
        'cfg = load_config(sys.argv[1])\n'
        'runner = build_runner(cfg, work_dir=tempfile.mkdtemp())\n'
        'runner.register_hook(_StopAtFirstIteration(), priority="HIGHEST")\n'
        'try:\n'
        '    runner.train()\n'
        'except _First:\n'
        '    pass\n'),
}


def startup_times(config: str, repeats: int = 3, eager_plugins: bool = False) -> dict:
    """CPU seconds (user + system, what the process itself spends; robust to other load) and
    wall seconds of fresh interpreters: ``import torch``, ``allspark plugins`` and a training
    start of ``config`` up to its first iteration (model, language model, loaders, hooks).
    ``eager_plugins``: with every plugin's modules imported at discovery (the old behaviour)."""
    import subprocess

    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('ALLSPARK_EAGER_PLUGINS', None)
    if eager_plugins:
        env['ALLSPARK_EAGER_PLUGINS'] = '1'
    out = {}
    for name, code in _STARTUP_PROBES.items():
        cpu, wall = [], []
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, '-c', code, config], env=env,
                                  capture_output=True, text=True)
            wall.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode:
                raise RuntimeError(f'start-up probe {name!r} failed:\n{proc.stderr[-2000:]}')
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out[name] = dict(cpu_s=summarize(cpu), wall_s=summarize(wall))
    base = out['import torch']['cpu_s']['median']
    for name in ('allspark plugins', 'model and first batch, hand-written (no Runner)',
                 'training start (to the first iteration)'):
        out[name]['cpu_s_above_import_torch'] = out[name]['cpu_s']['median'] - base
    # the framework's own share of a training start: what the Runner path adds to the same
    # model and batch built by hand (the rest is the model's libraries and weights)
    start = out['training start (to the first iteration)']
    start['framework_cpu_s_above_hand_written'] = (
        start['cpu_s']['median']
        - out['model and first batch, hand-written (no Runner)']['cpu_s']['median'])
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == '--startup':
        # allspark benchmark --startup CONFIG [--repeats N]: start-up, lazy vs eager plugins
        config = argv[1] if len(argv) > 1 else 'configs/quickstart.py'
        repeats = int(argv[argv.index('--repeats') + 1]) if '--repeats' in argv else 3
        report = {}
        for label, eager in (('lazy plugins (default)', False), ('eager plugins', True)):
            report[label] = startup_times(config, repeats, eager_plugins=eager)
            for name, r in report[label].items():
                extra = (f", {r['cpu_s_above_import_torch']:+.2f} s above import torch"
                         if 'cpu_s_above_import_torch' in r else '')
                if 'framework_cpu_s_above_hand_written' in r:
                    extra += (f", {r['framework_cpu_s_above_hand_written']:+.2f} s above the "
                              'hand-written start')
                print(f"{label:<24} {name:<42} CPU {r['cpu_s']['median']:.2f} s "
                      f"(wall {r['wall_s']['median']:.2f} s, n={r['cpu_s']['n']}){extra}")
        if '--out' in argv:
            with open(argv[argv.index('--out') + 1], 'w') as f:
                json.dump(dict(config=config, machine=__import__(
                    'allspark.benchmarking', fromlist=['machine_info']).machine_info(1),
                    date=time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()),
                    startup=report), f, indent=1)
        return 0
    if argv and argv[0] == '--summarize':
        # allspark benchmark --summarize DIR [DIR ...] [--alt DIR]: the docs' table
        rest = argv[1:]
        alt = None
        if '--alt' in rest:
            i = rest.index('--alt')
            alt, rest = rest[i + 1], rest[:i] + rest[i + 2:]
        print(markdown_summary(rest, alt))
        return 0
    args = build_parser().parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    status = 0
    from allspark.benchmarking import machine_info
    for config in args.configs:
        report = profile_config(config, args)
        report['machine'] = machine_info(args.threads)
        report['command'] = ' '.join(['allspark benchmark'] + list(argv or sys.argv[1:]))
        report['date'] = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())
        print(format_report(report), flush=True)
        name = os.path.splitext(config.replace('::', '_').replace('/', '_'))[0]
        path = os.path.join(args.out, f'{name}.json')
        with open(path, 'w') as f:
            json.dump(report, f, indent=1, default=str)
        print(f'written {path}')
        if args.check_overhead and not report['train_step']['overhead_ok']:
            status = 1
    return status


if __name__ == '__main__':
    raise SystemExit(main())
