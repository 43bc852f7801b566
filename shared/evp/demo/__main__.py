"""``python -m evp.demo``."""

import sys

from evp.demo import main

sys.exit(main())
