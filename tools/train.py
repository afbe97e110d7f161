"""`allspark train`, for a checkout: `python tools/train.py -h` (see allspark/commands/train.py)."""
from allspark.commands.train import main

if __name__ == '__main__':
    raise SystemExit(main())
