"""Regenerate assign_vectors.csv: fixed test vectors for sds.experiments.assign.

Written from the documented rule with hashlib only (no sds import), so the vectors are an
independent implementation: key = f"{experiment}:{unit_id}", h = int(sha256(key)[:15 hex], 16),
integer edges floor(cumulative weight * 16**15), first variant whose edge exceeds h.
Run: python tests/reference/make_assign_vectors.py
"""

import csv
import hashlib
import math
from pathlib import Path

CASES = [
    ("checkout-2026", ["control", "treatment"], [0.5, 0.5]),
    ("pricing", ["control", "cheap", "premium"], [0.2, 0.3, 0.5]),
    ("onboarding v2", ["a", "b"], [0.9, 0.1]),
]
IDS = [*range(40), 10**12 + 7, "user-abc", "Zoë", "42.0"]


def main() -> None:
    rows = []
    for experiment, variants, weights in CASES:
        edges, total = [], 0.0
        for w in weights[:-1]:
            total += w
            edges.append(math.floor(total * 16**15))
        edges.append(16**15)
        for uid in IDS:
            h = int(hashlib.sha256(f"{experiment}:{uid}".encode()).hexdigest()[:15], 16)
            variant = next(v for v, e in zip(variants, edges, strict=True) if h < e)
            rows.append(
                {
                    "experiment": experiment,
                    "variants": "|".join(variants),
                    "weights": "|".join(map(str, weights)),
                    "unit_id": uid,
                    "hash": h,
                    "variant": variant,
                }
            )
    out = Path(__file__).with_name("assign_vectors.csv")
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
