"""`allspark benchmark CONFIG ...` in a checkout: `python tools/benchmark.py -h`."""
from allspark.profiling import main

if __name__ == '__main__':
    raise SystemExit(main())
