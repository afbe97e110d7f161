"""Train a model from a config (a path, or <plugin>::<file>.py).

    allspark train sar::mstar.py [--data-root DIR] [--work-dir DIR] [--resume [CKPT]]
                                 [--cfg-options KEY=VALUE ...] [--launcher pytorch]
                                 [--strategy fsdp]

``--resume`` alone continues from the newest complete checkpoint in the work dir.  Several
processes: ``tools/dist_train.sh CONFIG NPROC`` (torchrun; gloo on CPU, NCCL on GPU); add
``--strategy fsdp`` to shard a language model too big for one GPU (docs/distributed.md).
"""
from __future__ import annotations

import argparse

from allspark.commands import add_config_arguments, run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT, or (no value) from the newest complete '
                             'checkpoint in the work dir')
    parser.add_argument('--strategy', default=None, metavar='NAME',
                        help='fsdp: shard the model with FSDP (mmengine FlexibleRunner + '
                             'FSDPStrategy; with --launcher pytorch under torchrun), ddp, or '
                             'any mmengine strategy name; default: the config\'s strategy, '
                             'else the Runner with DDP (docs/distributed.md)')


def run(args: argparse.Namespace) -> int:
    from allspark.config import load_config
    from allspark.engine.distributed import finalize_distributed
    from allspark.engine.runner import build_runner, report_unusable_plugins

    report_unusable_plugins()
    cfg = load_config(args.config, args.cfg_options, data_root=args.data_root)
    try:
        runner = build_runner(cfg, work_dir=args.work_dir, resume=args.resume,
                              launcher=args.launcher, strategy=args.strategy)
        runner.train()
    except BaseException:
        finalize_distributed(barrier=False)
        raise
    finalize_distributed()  # ranks that exit with a live process group can abort
    return 0


def main(argv=None) -> int:
    return run_command(__name__, argv)
