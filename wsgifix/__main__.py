"""``python -m wsgifix`` is the ``wsgifix`` command."""

import sys

from wsgifix.cli import main

sys.exit(main())
