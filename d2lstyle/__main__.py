"""python -m d2lstyle: the command line."""
import sys

from .cli import main

sys.exit(main())
