"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...]
"""
import argparse
import json
import os
import sys

from mmengine.config import DictAction

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # noqa: E402
from allspark.engine.runner import build_runner, load_config  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Test an AllSpark model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs go')
    parser.add_argument('--out', help='write the metrics as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    return parser.parse_args()


def main():
    args = parse_args()
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg, work_dir=args.work_dir, launcher=args.launcher)
    metrics = runner.test()
    print(json.dumps(metrics, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
