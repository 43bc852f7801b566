"""``python -m evp.demo [ARGS]``: the same as ``evp demo [ARGS]``."""

import sys

from evp.cli.main import main

sys.exit(main(["demo", *sys.argv[1:]]))
