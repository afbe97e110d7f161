"""The ``allspark`` console script: ``allspark <command> [args]``.

Commands (``allspark <command> -h`` for each): ``train``, ``test``, ``plugins``, ``configs``,
``benchmark`` and whatever else ``allspark.commands`` holds (e.g. ``fewshot``, ``retrieval``).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from allspark import commands


def main(argv=None) -> int:
    from allspark.version import __version__

    parser = argparse.ArgumentParser(prog='allspark', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--version', action='version', version=f'allspark-core {__version__}')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    modules = {}
    for name in commands.command_names():
        module = importlib.import_module(f'allspark.commands.{name}')
        modules[name] = module
        p = sub.add_parser(name, help=commands.help_line(module),
                           description=(module.__doc__ or '').strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        commands.build_parser(module, p)
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)


if __name__ == '__main__':
    sys.exit(main())
