#!/usr/bin/env python3
"""Train models from a config: scripts/train.py --config prod.yaml [-o MODEL_DIR]."""

import sys
from pathlib import Path

try:
    import sds  # noqa: F401
except ImportError:  # running from a checkout without installing: use its src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sds.cli.seed import seed_main
from sds.cli.seed_models import TRAIN_JOB

if __name__ == "__main__":
    sys.exit(seed_main(TRAIN_JOB))
