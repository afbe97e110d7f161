"""`allspark retrieval`, for a checkout: `python tools/retrieval.py -h` (see allspark/commands/retrieval.py)."""
from allspark.commands.retrieval import main

if __name__ == '__main__':
    raise SystemExit(main())
