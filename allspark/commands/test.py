"""Evaluate a checkpoint on a config's test set.

    allspark test CONFIG CHECKPOINT [--data-root DIR] [--out metrics.json]
                                    [--cfg-options KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import json
import os

from allspark.commands import add_config_arguments, run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics as JSON here')
    parser.add_argument('--strict', choices=['true', 'false'], default='true',
                        help='refuse a checkpoint whose weights do not match the model '
                             '(missing / unexpected keys, shapes); default true')


def run(args: argparse.Namespace) -> int:
    from allspark.config import load_config
    from allspark.engine.checkpoint import check_checkpoint_matches
    from allspark.engine.distributed import finalize_distributed
    from allspark.engine.runner import build_runner, report_unusable_plugins

    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    report_unusable_plugins()
    cfg = load_config(args.config, args.cfg_options, data_root=args.data_root)
    cfg.load_from = args.checkpoint
    if cfg.get('strategy'):  # FSDP (full state dict) checkpoints are ordinary files
        import sys

        print(f'[allspark] test runs with the Runner (one process, or DDP with --launcher '
              f'pytorch): the config\'s strategy {dict(cfg.strategy).get("type")!r} is not used',
              file=sys.stderr)
        cfg.pop('strategy')
    try:
        runner = build_runner(cfg, work_dir=args.work_dir, launcher=args.launcher)
        # names the file and the first mismatched keys; only --strict false gets past it
        check_checkpoint_matches(runner.model, args.checkpoint, strict=args.strict == 'true')
        metrics = runner.test()
    except BaseException:
        finalize_distributed(barrier=False)
        raise
    finalize_distributed()
    print(json.dumps(metrics, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    return 0


def main(argv=None) -> int:
    return run_command(__name__, argv)
