"""``python -m evp.bench`` runs every benchmark section (see ``--help``)."""

import sys

from evp.bench.runner import main

sys.exit(main())
