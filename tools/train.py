"""Train a model from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--cfg-options k=v ...]

``--resume`` alone resumes from the newest complete checkpoint in the work dir.  For several
processes use ``tools/dist_train.sh CONFIG NPROC`` (torchrun; gloo on CPU, NCCL on GPU).
"""
import argparse
import os
import sys

from mmengine.config import DictAction

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # noqa: E402
from allspark.engine.runner import build_runner, load_config  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train an AllSpark model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CHECKPOINT, or (no value) from the newest one in the '
                             'work dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    runner = build_runner(cfg, work_dir=args.work_dir, resume=args.resume,
                          launcher=args.launcher)
    runner.train()


if __name__ == '__main__':
    main()
