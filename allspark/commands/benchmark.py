"""Run a benchmark shipped by a plugin, or profile the speed of configs.

    allspark benchmark --list
    allspark benchmark NAME [ARGS ...]          a plugin's benchmark (``... mstar -h``)
    allspark benchmark CONFIG [CONFIG ...] ...  step time, throughput, memory, component split
                                                (``allspark.profiling``; configs end in .py or
                                                use <plugin>::<file>)
    allspark benchmark --macs CONFIG [CONFIG ...] [--batch-size N] [--out FILE.json]
                                                inference MACs per sample, counted on the meta
                                                device: no weights, no memory (``allspark.macs``)
    allspark benchmark --summarize DIR [--alt DIR]  the Markdown table of saved profiles
    allspark benchmark --startup [CONFIG]       start-up CPU/wall time, lazy vs eager plugins
"""
from __future__ import annotations

import argparse
import importlib

from allspark.commands import run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--list', action='store_true', help='list the installed benchmarks')
    parser.add_argument('--macs', action='store_true',
                        help='count inference MACs per sample of the config(s) on the meta '
                             'device (allspark.macs; "--macs CONFIG -h" for its options)')
    parser.add_argument('--summarize', action='store_true',
                        help='print the Markdown table of the profiles in the folder(s) '
                             '(--summarize DIR [DIR ...] [--alt DIR_OTHER_PRECISION])')
    parser.add_argument('--startup', action='store_true',
                        help='CPU and wall seconds of import torch, allspark plugins and a '
                             'training start to its first iteration, lazy vs eager plugins '
                             '(--startup [CONFIG] [--repeats N] [--out FILE.json])')
    parser.add_argument('target', nargs='?', help='benchmark name, or a config')
    parser.add_argument('args', nargs=argparse.REMAINDER,
                        help='arguments passed to the benchmark')


def benchmarks() -> dict[str, tuple[str, str]]:
    """``{benchmark name: (plugin name, module)}`` over every usable plugin."""
    from allspark import plugins

    found = {}
    for rec in plugins.load_plugins():
        if rec.status != 'ok':
            continue
        for name, module in rec.benchmarks.items():
            found[name] = (rec.name, module)
    return found


def run(args: argparse.Namespace) -> int:
    if args.macs:
        if not args.target:
            raise SystemExit('allspark benchmark --macs: give one or more configs')
        from allspark import macs

        return int(macs.main([args.target] + list(args.args)) or 0)
    if args.target == '--startup' or args.startup:
        from allspark import profiling

        rest = [a for a in [args.target] + list(args.args) if a and a != '--startup']
        return int(profiling.main(['--startup'] + rest) or 0)
    if args.summarize:
        from allspark import profiling

        return int(profiling.main(['--summarize', args.target] + list(args.args)) or 0)
    found = benchmarks()
    if args.list or not args.target:
        if not found:
            print('no benchmarks installed')
        for name, (plugin, module) in sorted(found.items()):
            print(f'{name:<24} plugin {plugin:<12} {module}')
        return 0 if args.list else 2
    target = args.target
    if target in found:
        module = importlib.import_module(found[target][1])
        return int(module.main(list(args.args)) or 0)
    if target.endswith('.py') or '::' in target:
        from allspark import profiling

        return int(profiling.main([target] + list(args.args)) or 0)
    raise SystemExit(f'allspark benchmark: {target!r} is neither an installed benchmark '
                     f'({", ".join(sorted(found)) or "none installed"}) nor a config '
                     f'(*.py or <plugin>::<file>.py)')


def main(argv=None) -> int:
    return run_command(__name__, argv)
