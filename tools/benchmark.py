"""`allspark benchmark CONFIG ...`, for a checkout: `python tools/benchmark.py -h` (allspark/profiling.py)."""
from allspark.profiling import main

if __name__ == '__main__':
    raise SystemExit(main())
