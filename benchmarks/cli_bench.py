"""CLI cold-start benchmark: wall time of fresh ``sds`` processes, against the targets.

Each command runs ``--repeat`` times (default 7, at least 5) as a fresh process started the
way the ``sds`` console script starts (``from sds.cli.main import run; run()``), with the
``src`` folder of this checkout first on ``sys.path``. Rounds are interleaved (one run of
every command per round), so a load change on the machine hits all of them alike. Printed:
the median wall and CPU seconds and the child's peak RSS (``wait4``), the target and whether
the wall time meets it.

- ``sds --version``, ``sds --help``: target < 0.25 s;
- ``sds srm --counts 50500,49500`` and ``sds design proportion --baseline 0.1 --mde 0.05``
  (commands that read no table): target < 0.45 s;
- ``python -c pass``: the interpreter's own start, the floor under every row;
- ``sds --help`` with ``TYPER_USE_RICH=0``: the same help drawn by click without rich, for
  comparison (not what users get);
- ``sds analyze`` on the analysis benchmark's data (``benchmarks/analysis_bench.py``'s spec
  and generator: 10,000,000 units by default, ``benchmarks/out/analysis/ab_N.parquet``,
  written if missing): **cold** is the wall time of a fresh process running
  ``sds analyze SPEC --data FILE --format json``; **warm** is the same ``run([...])``
  called a second time inside one process that already ran it once (imports done, caches
  filled), timed around that call alone. Cold minus warm is what starting costs an analysis.

``--baseline-src DIR`` times a second checkout's ``src`` (e.g. the main branch) in the same
rounds and adds its medians and the ratio.

Run (a quiet machine; takes about a minute plus 2 x repeat analyses)::

    .venv/bin/python benchmarks/cli_bench.py [--repeat 7] [--units 10000000]
        [--baseline-src ../other-checkout/src] [--no-analyze]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "cli"
DATA = HERE / "out" / "analysis"  # shared with analysis_bench.py
START = (
    "import sys; sys.path.insert(0, {src!r}); sys.argv[0] = 'sds'; "
    "from sds.cli.main import run; run()"
)
DESIGN = ["design", "proportion", "--baseline", "0.1", "--mde", "0.05"]
COMMANDS: dict[str, tuple[list[str], float | None, dict[str, str]]] = {
    "python -c pass (floor)": ([], None, {}),
    "sds --version": (["--version"], 0.25, {}),
    "sds --help": (["--help"], 0.25, {}),
    "sds --help (TYPER_USE_RICH=0)": (["--help"], None, {"TYPER_USE_RICH": "0"}),
    "sds srm --counts 50500,49500": (["srm", "--counts", "50500,49500"], 0.45, {}),
    "sds " + " ".join(DESIGN): (DESIGN, 0.45, {}),
}


def _child(args: list[str]) -> tuple[str, float, float, float]:
    """One child process: its stdout, wall seconds, CPU seconds (user + system) and peak
    RSS in GB, from ``wait4`` as in ``bench_child.run_child``; a failed child stops the run."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {' '.join(args)}")
    return out, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2


def _timed(args: list[str], extra_env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (GB) of one child process."""
    saved = {k: os.environ.get(k) for k in extra_env}
    os.environ.update(extra_env)
    try:
        return _child(args)[1:]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _argv(src: str, command: list[str], label: str) -> list[str]:
    if label.startswith("python -c pass"):
        return [sys.executable, "-c", "pass"]
    return [sys.executable, "-c", START.format(src=src), *command]


def _analyze_args(spec: Path, data: Path) -> list[str]:
    """``sds analyze``, its JSON report on stdout (read and dropped by the benchmark)."""
    return ["--no-progress", "analyze", str(spec), "--data", str(data), "--format", "json"]


def _warm_child(src: str, argv: list[str]) -> None:
    """In this process: run the command once (cold), then time a second run (warm)."""
    sys.path.insert(0, src)
    from sds.cli.main import run

    start = time.perf_counter()
    run(argv)
    cold = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    run(argv)
    warm, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"first": cold, "warm": warm, "cpu": cpu}))


def _data(units: int) -> Path:
    path = DATA / f"ab_{units}.parquet"
    if not path.exists():
        sys.path.insert(0, str(HERE.parent / "src"))
        from sds.data import synth

        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating ab_test n_users={units:,} -> {path}", flush=True)
        synth.write_parquet("ab_test", path, seed=1, progress=True, n_users=units)
    return path


def _rounds(trees: dict[str, str], repeat: int, analyze: list[str] | None) -> dict[str, list]:
    """{"tree|label": [(wall s, CPU s, peak GB), ...]} over ``repeat`` interleaved rounds."""
    runs: dict[str, list] = {}
    for round_no in range(repeat):
        for label, (command, _, env) in COMMANDS.items():
            for tree, src in trees.items():
                runs.setdefault(f"{tree}|{label}", []).append(
                    _timed(_argv(src, command, label), env)
                )
        if analyze is not None:
            for tree, src in trees.items():
                runs.setdefault(f"{tree}|cold", []).append(
                    _timed([sys.executable, "-c", START.format(src=src), *analyze], {})
                )
                out, _, _, peak = _child([sys.executable, __file__, "--warm-child", src, *analyze])
                times = json.loads(out.strip().splitlines()[-1])
                runs.setdefault(f"{tree}|warm", []).append((times["warm"], times["cpu"], peak))
        print(f"round {round_no + 1}/{repeat} done, load {os.getloadavg()[0]:.2f}", flush=True)
    return runs


def _row(
    runs: dict[str, list], trees: dict[str, str], key: str, label: str, target: float | None
) -> str:
    wall = {t: statistics.median(r[0] for r in runs[f"{t}|{key}"]) for t in trees}
    cpu = statistics.median(r[1] for r in runs[f"this|{key}"])
    peak = max(r[2] for r in runs[f"this|{key}"])
    cells = [f"{label:52s}", f"{wall['this']:7.3f}", f"{cpu:6.3f}", f"{peak:6.2f}"]
    if "baseline" in trees:
        base_cpu = statistics.median(r[1] for r in runs[f"baseline|{key}"])
        cells += [f"{wall['baseline']:8.3f}", f"{wall['this'] / wall['baseline']:6.2f}"]
        cells += [f"{cpu / base_cpu:6.2f}"]
    met = "" if target is None else ("met" if wall["this"] < target else "NOT met")
    cells += [f"{'< ' + format(target, 'g') if target else '':>7s}", met]
    return "| " + " | ".join(cells) + " |"


def _table(runs: dict[str, list], trees: dict[str, str], analyze: bool, repeat: int) -> None:
    head = [f"command (median of {repeat} fresh processes)", "wall s", "CPU s", "peak GB"]
    if "baseline" in trees:
        head += ["baseline wall s", "wall ratio", "CPU ratio"]
    head += ["target (wall)", "status"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for label, (_, target, _) in COMMANDS.items():
        print(_row(runs, trees, label, label, target))
    if analyze:
        print(_row(runs, trees, "cold", "sds analyze, cold (fresh process)", None))
        print(_row(runs, trees, "warm", "sds analyze, warm (2nd run in one process)", None))
        cold = statistics.median(r[0] for r in runs["this|cold"])
        warm = statistics.median(r[0] for r in runs["this|warm"])
        print(f"\nsds analyze: cold - warm = {cold - warm:.2f} s: imports and first calls")
    print(
        "\nCPU s is user + system time of the child: under load it stays closer to the quiet "
        "wall time than wall does; the targets are judged on wall time."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per command (>= 5)")
    parser.add_argument("--units", type=int, default=10_000_000, help="units of the analyze data")
    parser.add_argument("--src", default=str(HERE.parent / "src"), help="the sds code to time")
    parser.add_argument("--baseline-src", help="another checkout's src, timed in the same rounds")
    parser.add_argument("--no-analyze", action="store_true", help="skip the sds analyze rows")
    parser.add_argument("--warm-child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_child:
        _warm_child(args.warm_child[0], args.warm_child[1:])
        return
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")
    trees = {"this": args.src, **({"baseline": args.baseline_src} if args.baseline_src else {})}
    analyze = None
    if not args.no_analyze:
        import analysis_bench

        OUT.mkdir(parents=True, exist_ok=True)
        spec = OUT / "analysis_spec.json"
        spec.write_text(json.dumps(analysis_bench.SPEC))
        analyze = _analyze_args(spec, _data(args.units))
    print(f"load before: {os.getloadavg()}  ({os.cpu_count()} cores)", flush=True)
    runs = _rounds(trees, args.repeat, analyze)
    print(f"load after: {os.getloadavg()}\n")
    _table(runs, trees, analyze is not None, args.repeat)


if __name__ == "__main__":
    main()
