"""`allspark fewshot`, for a checkout: `python tools/fewshot.py -h`."""
from allspark.commands.fewshot import main

if __name__ == '__main__':
    raise SystemExit(main())
