"""Benchmark: ``jeugdlib kpi`` of this checkout against earlier versions, side by side.

Each run is the real command in its own child process (``python -m jeugdlib.cli kpi
DATA --peildatum ... --per jaar --out <tmp>.csv --quiet``); each earlier version runs
from its own checkout (``--oud DIR [DIR ...]``, first on PYTHONPATH; named after the
folder). The runs alternate (old ones, new, old ones, new, ...) after one untimed read
of the tables that warms the page cache.
Per run: wall time, and the peak memory of the whole process tree (the summed RSS of
the command and every process it starts, sampled every 0.2 s from /proc; reading
/proc/<pid>/statm costs microseconds, so sampling does not slow the command).

    .venv/bin/python benchmarks/bench_kpi.py DATA [--oud DIR [DIR ...]] [--peildatum 2024-08-01]
        [--repeat 3] [--per jaar] [--geheugen 4GB] [--oud-data DIR [DIR ...]]

``--oud-data`` gives each earlier version its own ingest of the same raw data (a
like-for-like run: an older version may misread a newer ingest's tables).
``--geheugen`` sets the DuckDB memory ceiling of the new version (JEUGDLIB_GEHEUGEN).
Prints one line per run and a summary (min / median / max) per version.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _rss(pids: list[int]) -> int:
    tot = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as f:
                tot += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return tot


def run(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak tree RSS in GB, exit status) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    piek = 0
    while proc.poll() is None:
        piek = max(piek, _rss(_tree(proc.pid)))
        time.sleep(0.2)
    dt = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode:
        print(f"  mislukt ({proc.returncode}): {err.splitlines()[-1] if err else ''}", file=sys.stderr)
    return dt, piek / 1e9, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--oud", type=Path, nargs="*", default=[],
                    help="checkouts of earlier versions (each named after its folder)")
    ap.add_argument("--oud-data", type=Path, nargs="*", default=[],
                    help="per earlier version (in the order of --oud) its own ingest of the same raw data, "
                         "instead of DATA: each version reads what its own ingest wrote")
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--per", default="jaar")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--geheugen", default=None, help="DuckDB memory_limit of the new version, e.g. 4GB")
    args = ap.parse_args()
    data = args.data.resolve()
    if args.oud_data and len(args.oud_data) != len(args.oud):
        ap.error("--oud-data: one folder per --oud")
    versies = {d.resolve().name: d.resolve() for d in args.oud}
    versies["nieuw"] = ROOT
    gegevens = {naam: (args.oud_data[i].resolve() if args.oud_data else data)
                for i, naam in enumerate(list(versies)[:-1])}
    gegevens["nieuw"] = data
    # warm the page cache: read every table once
    for d in set(gegevens.values()):
        for f in sorted(d.rglob("*.parquet")):
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
    tijden: dict[str, list] = {v: [] for v in versies}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for naam, map_ in versies.items():
                env = dict(os.environ, PYTHONPATH=str(map_))
                if naam == "nieuw" and args.geheugen:
                    env["JEUGDLIB_GEHEUGEN"] = args.geheugen
                out = Path(tmp) / f"{naam}.csv"
                cmd = [sys.executable, "-m", "jeugdlib.cli", "kpi", str(gegevens[naam]), "--peildatum", args.peildatum,
                       "--per", args.per, "--out", str(out), "--quiet"]
                s, gb, rc = run(cmd, env, map_)
                rijen = sum(1 for _ in open(out)) - 1 if out.exists() and rc == 0 else 0
                tijden[naam].append((s, gb))
                print(f"run {i + 1} {naam:8s}: {s:6.1f} s, piek geheugen (procesboom) {gb:5.2f} GB, "
                      f"{rijen:,} KPI-rijen, exit {rc}", flush=True)
    print(f"\n{data} (kpi --per {args.per}, peildatum {args.peildatum}, {args.repeat}x):")
    for naam, r in tijden.items():
        s = [x[0] for x in r]
        g = [x[1] for x in r]
        print(f"  {naam:8s}: tijd min {min(s):.1f} / mediaan {statistics.median(s):.1f} / max {max(s):.1f} s; "
              f"piek geheugen max {max(g):.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
