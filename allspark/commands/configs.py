"""List the configs the core and each installed plugin ship (usable as <plugin>::<file>.py).

    allspark configs [PLUGIN ...] [--paths]
"""
from __future__ import annotations

import argparse

from allspark.commands import run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('plugins', nargs='*', help='only these plugins (default: all)')
    parser.add_argument('--paths', action='store_true', help='also print each file\'s path')


def run(args: argparse.Namespace) -> int:
    import os

    from allspark.config import list_configs, resolve_config_path

    found = list_configs()
    wanted = set(args.plugins or found)
    missing = wanted - set(found)
    if missing:
        print(f'no configs shipped by: {", ".join(sorted(missing))} '
              f'(prefixes available: {", ".join(found)})')
        return 1
    for prefix, files in found.items():
        if prefix not in wanted:
            continue
        print(f'{prefix} ({len(files)} configs)')
        for f in files:
            name = f'{prefix}::{f}'
            line = f'    {name}'
            if args.paths:
                line += f'    {os.path.relpath(resolve_config_path(name))}'
            print(line)
    return 0


def main(argv=None) -> int:
    return run_command(__name__, argv)
