"""The ``allspark`` console script: ``allspark plugins [-v]``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='allspark', description='AllSpark command line')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('plugins', help='list installed modality plugins and what they register')
    p.add_argument('-v', '--verbose', action='store_true', help='show tracebacks of failures')
    args = parser.parse_args(argv)
    if args.command == 'plugins':
        import allspark
        from allspark import plugins

        allspark.register_all_modules()
        recs = plugins.load_plugins()
        print(f'AllSpark {allspark.__version__} (plugin API {allspark.API_VERSION})')
        print(plugins.format_report(recs, verbose=args.verbose))
        return 0
    return 1


if __name__ == '__main__':
    sys.exit(main())
