"""``python -m motioncomic ...`` (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
