"""`allspark test`, for a checkout: `python tools/test.py -h` (see allspark/commands/test.py)."""
from allspark.commands.test import main

if __name__ == '__main__':
    raise SystemExit(main())
