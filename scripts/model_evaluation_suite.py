#!/usr/bin/env python3
"""Evaluate every model in a folder: scripts/model_evaluation_suite.py -i models/ -o evaluation/."""

import sys
from pathlib import Path

try:
    import sds  # noqa: F401
except ImportError:  # running from a checkout without installing: use its src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sds.cli.seed import seed_main
from sds.cli.seed_models import SUITE_JOB

if __name__ == "__main__":
    sys.exit(seed_main(SUITE_JOB))
