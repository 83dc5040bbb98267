"""Run one benchmark step in a child process: its output and its peak resident memory."""

from __future__ import annotations

import os
import subprocess


def run_child(args: list[str]) -> tuple[str, float]:
    """The child's stdout and peak RSS in GB (from ``wait4``); a failed child stops the run."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {' '.join(args)}")
    return out, usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
