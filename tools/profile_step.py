"""Where a config's training step spends its time, operator by operator (``torch.profiler``).

    OMP_NUM_THREADS=1 python tools/profile_step.py CONFIG [--precision bf16|fp32] [--rows 20]

Builds the config as ``allspark benchmark`` does (its in-memory batches of the config's own
training data), takes 4 untimed hand-loop steps (zero_grad, forward, backward, clip, AdamW),
then profiles 4 more and prints the operators by self CPU time: the table behind
``docs/benchmarks.md``'s "what keeps them under 2x".
"""
from __future__ import annotations

import argparse

import torch


def main() -> None:
    from torch.profiler import ProfilerActivity, profile

    from allspark.profiling import HandLoop, _build, build_parser

    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--precision', choices=('fp32', 'bf16'), default='bf16')
    p.add_argument('--rows', type=int, default=20)
    p.add_argument('--out', default='work_dirs/profile_step')
    args = p.parse_args()
    torch.set_num_threads(1)
    bench_args = build_parser().parse_args([args.config, '--precision', args.precision,
                                            '--out', args.out])
    runner, cfg, loader_cfg, _, runner_cls = _build(args.config, bench_args)
    model = runner.model
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    batches = [b for b, _ in zip(runner_cls.build_dataloader(loader_cfg, seed=0), range(2))]
    clip = (cfg.optim_wrapper.get('clip_grad') or {}).get('max_norm')
    hand = HandLoop(model, runner.optim_wrapper.optimizer, args.precision == 'bf16',
                    torch.device('cpu'), clip)
    model.train()
    for i in range(4):
        hand.step(batches[i % len(batches)])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(4):
            hand.step(batches[i % len(batches)])
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=args.rows))


if __name__ == '__main__':
    main()
