"""Regenerate assign_vectors.csv: fixed test vectors for sds.experiments.assign.

Written from the documented rule with hashlib only (no sds import), so the vectors are an
independent implementation: key = f"{experiment}:{unit_id}" as UTF-8 (an integer id in
decimal, as Python's str), h = int(sha256(key)[:15 hex], 16), integer edges
floor(cumulative weight * 16**15), first variant whose edge exceeds h.

Ids are integers (``id_type`` int: zero, negatives, the 32- and 64-bit limits, 2**53 + 1)
and strings (``id_type`` str: unicode in both normal forms, an emoji, the empty string, a
space, digits that look like numbers, a colon like the key's own separator, a tab, a long
id), under several experiments (one with a unicode name) and weightings (even, uneven,
1% and 99%, four arms).
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
    ("Zoë's test ✓", ["control", "t1", "t2", "t3"], [0.25, 0.25, 0.25, 0.25]),
    ("holdout", ["holdout", "rest"], [0.01, 0.99]),
]
INT_IDS = [
    *range(10),
    42,
    -1,
    -42,
    1000,
    123456789,
    10**12 + 7,
    2**31 - 1,
    2**31,
    -(2**31),
    2**53 + 1,
    2**63 - 1,
    -(2**63),
]
STR_IDS = [
    "user-abc",
    "Zoë",
    "Zo\u0065\u0308",  # the same name with a combining diaeresis: another id
    "用户-7",
    "🙂",
    "42.0",
    "007",
    "-0",
    "",
    " ",
    "a:b",
    "UPPER",
    "tab\there",
    "x" * 200,
    "null",
    "1e3",
]
OUT = Path(__file__).with_name("assign_vectors.csv")


def main() -> None:
    rows = []
    for experiment, variants, weights in CASES:
        edges, total = [], 0.0
        for w in weights[:-1]:
            total += w
            edges.append(math.floor(total * 16**15))
        edges.append(16**15)
        for id_type, ids in (("int", INT_IDS), ("str", STR_IDS)):
            for uid in ids:
                h = int(hashlib.sha256(f"{experiment}:{uid}".encode()).hexdigest()[:15], 16)
                variant = next(v for v, e in zip(variants, edges, strict=True) if h < e)
                rows.append(
                    {
                        "experiment": experiment,
                        "variants": "|".join(variants),
                        "weights": "|".join(map(str, weights)),
                        "id_type": id_type,
                        "unit_id": uid,
                        "hash": h,
                        "variant": variant,
                    }
                )
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
