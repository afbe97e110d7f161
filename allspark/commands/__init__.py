"""Subcommands of the ``allspark`` console script, one module each.

A command module defines a module docstring (its first line is the help text),
``add_arguments(parser)``, ``run(args) -> int`` and ``main(argv=None) -> int``
(``= run_command(__name__, argv)``, what ``tools/<name>.py`` calls).  The console script
finds every module in this package, so a new command is a new file.  Keep module-level imports
light: ``allspark --help`` imports every command module.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Optional, Sequence


def command_names() -> list[str]:
    """Names of the subcommands (the modules of this package), sorted."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__)
                  if not info.name.startswith('_'))


def help_line(module) -> str:
    doc = (module.__doc__ or '').strip()
    return doc.splitlines()[0].rstrip('.') if doc else ''


def build_parser(module, parser: Optional[argparse.ArgumentParser] = None,
                 prog: Optional[str] = None) -> argparse.ArgumentParser:
    if parser is None:
        parser = argparse.ArgumentParser(
            prog=prog, description=(module.__doc__ or '').strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return parser


def run_command(module_name: str, argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` with the command's arguments and run it (the ``main`` of each command)."""
    module = importlib.import_module(module_name)
    short = module_name.rsplit('.', 1)[-1]
    parser = build_parser(module, prog=f'allspark {short}')
    args = parser.parse_args(argv)
    return int(module.run(args) or 0)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every config-driven command shares (config, overrides, data root)."""
    from mmengine.config import DictAction

    parser.add_argument('config', help='config file, or <plugin>::<file>.py (see `allspark '
                                       'configs`), e.g. sar::mstar.py')
    parser.add_argument('--data-root', metavar='DIR',
                        help='data folder: replaces the config\'s data_root in every dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, e.g. train_cfg.max_epochs=2 '
                             '(data_root=DIR works like --data-root)')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='pytorch: started by torchrun (see tools/dist_train.sh)')
