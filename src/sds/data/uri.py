"""What counts as a URI: a path with a scheme (``hdfs://``, ``s3a://``, ``file://`` ...).

Both readers need it: :mod:`sds.data.io` hands such paths to the engine untouched, and
:mod:`sds.data.spark` leaves their CSV types to Spark's own inference.
"""

from __future__ import annotations

import re

URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
