"""List installed modality plugins, what each registered, and the broken ones.

    allspark plugins [-v] [--check]

Plugins that declare what they provide are listed from their spec, without importing their
modules (fast); ``--check`` imports every plugin's modules and exits with status 1 when one is
broken or incompatible (for CI and install scripts); without it the listing always exits 0.
"""
from __future__ import annotations

import argparse

from allspark.commands import run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('-v', '--verbose', action='store_true', help='show tracebacks of failures')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if any plugin is broken or incompatible')


def run(args: argparse.Namespace) -> int:
    import allspark
    from allspark import plugins

    recs = plugins.import_all_plugins() if args.check else plugins.load_plugins()
    print(f'AllSpark {allspark.__version__} (plugin API {allspark.API_VERSION})')
    print(plugins.format_report(recs, verbose=args.verbose))
    unusable = [r for r in recs if r.status in ('broken', 'incompatible')]
    return 1 if args.check and unusable else 0


def main(argv=None) -> int:
    return run_command(__name__, argv)
