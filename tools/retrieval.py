"""`allspark retrieval`, for a checkout: `python tools/retrieval.py -h`."""
from allspark.commands.retrieval import main

if __name__ == '__main__':
    raise SystemExit(main())
