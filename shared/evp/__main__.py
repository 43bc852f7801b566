"""``python -m evp`` is ``evp``."""

import sys

from evp.cli import main

sys.exit(main())
