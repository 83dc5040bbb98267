#!/usr/bin/env python3
"""Check a model server: scripts/health_check.py [--url URL]; exit 0 healthy, 1 not."""

import sys
from pathlib import Path

try:
    import sds  # noqa: F401
except ImportError:  # running from a checkout without installing: use its src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sds.cli.seed import seed_main
from sds.cli.seed_health import JOB

if __name__ == "__main__":
    sys.exit(seed_main(JOB))
