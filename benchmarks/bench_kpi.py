"""Benchmark: ``jeugdlib kpi --per jaar`` against merely reading the Parquet tables.

Issue 4: on the national-scale processed data, the KPI command may take at most
10 times as long as reading the same Parquet tables into pandas, with peak
memory under 8 GB. Both are measured here side by side in one run, each in its
own child process (so each has its own peak RSS, from ``os.wait4``), after one
untimed read that warms the page cache for both.

    .venv/bin/python benchmarks/bench_kpi.py [DATASET] [--peildatum 2024-08-01] [--repeat 1] [--modules]

DATASET defaults to data/processed/national, or data/processed/demo when that
does not exist (the script says which it used). ``--modules`` adds, in another
child process, the time and peak RSS of each step of the command (reading,
cleaning, each KPI module; the peak is reset before each step, via
/proc/self/clear_refs), to see where time and memory go. There the forecast runs
in the process itself; in the command its model fits run in a second process
beside the other modules.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READ = """
import sys, glob, pandas as pd
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.parquet")):
    n += len(pd.read_parquet(f, dtype_backend="pyarrow"))
print(n)
"""


STAPPEN = """
import gc, importlib, sys, time
from jeugdlib import kpi
from jeugdlib.clean import clean
from jeugdlib.config import Params

def status():
    d = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if l.startswith(("VmRSS", "VmHWM")))
    return int(d["VmRSS"].split()[0]) / 1e6, int(d["VmHWM"].split()[0]) / 1e6

def reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass

def stap(naam, f):
    gc.collect(); reset(); t = time.perf_counter(); r = f(); dt = time.perf_counter() - t
    rss, peak = status()
    print(f"{naam:16s} {dt:7.1f} s   peak RSS {peak:5.2f} GB   RSS after {rss:5.2f} GB", flush=True)
    return r

p = Params(sys.argv[2], per="jaar")
ds = stap("read", lambda: kpi.lees_dataset(sys.argv[1]))
c = stap("clean", lambda: clean(ds, p, declaratie_kolommen=kpi.KPI_DECLARATIE_KOLOMMEN, ruw_vrijgeven=True))
del ds
kpi.licht_maken(c)
for m in kpi.kpi_modules():
    stap(m.__name__.split(".")[-1], lambda: m.kpis(c, p))
"""


def run_rss(cmd: list[str]) -> tuple[float, float, str]:
    """Run a child and return (seconds, its own peak RSS in GB, stdout) via os.wait4."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(), fe.read().decode()
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return secs, ru.ru_maxrss / 1e6, out  # ru_maxrss is in KB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default=None)
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    ap.add_argument("--modules", action="store_true", help="also time each step and module (another run)")
    a = ap.parse_args()
    if a.dataset:
        ds = Path(a.dataset)
    else:
        ds = ROOT / "data" / "processed" / "national"
        if not (ds / "toewijzingen.parquet").exists():
            ds = ROOT / "data" / "processed" / "demo"
            print(f"data/processed/national not found; using {ds}")
    if not (ds / "toewijzingen.parquet").exists():
        sys.exit(f"{ds}: no processed dataset (run jeugdlib ingest first)")
    py = sys.executable
    size = sum(f.stat().st_size for f in ds.glob("*.parquet")) / 1e6
    print(f"dataset: {ds} ({size:,.0f} MB Parquet)")

    run_rss([py, "-c", READ, str(ds)])  # warm the page cache, untimed
    reads, kpis = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "kpis.csv"
        for _ in range(a.repeat):
            reads.append(run_rss([py, "-c", READ, str(ds)]))
            kpis.append(run_rss([py, "-m", "jeugdlib.cli", "kpi", str(ds), "--peildatum", a.peildatum,
                                 "--per", "jaar", "--out", str(out), "--quiet"]))
        n_rows = sum(1 for _ in out.open()) - 1
    r = min(reads, key=lambda x: x[0])
    k = min(kpis, key=lambda x: x[0])
    print(f"rows read: {int(r[2].strip()):,}")
    print(f"read Parquet into pandas : {r[0]:7.1f} s   peak RSS {r[1]:5.2f} GB")
    print(f"jeugdlib kpi --per jaar  : {k[0]:7.1f} s   peak RSS {k[1]:5.2f} GB   ({n_rows:,} KPI rows)")
    ratio = k[0] / r[0]
    print(f"ratio kpi / read         : {ratio:7.1f}   (target <= 10)")
    print(f"peak memory kpi          : {k[1]:7.2f} GB (target < 8 GB)")
    print("verdict:", "OK" if ratio <= 10 and k[1] < 8 else "NOT MET")
    if a.modules:
        print("per step (one process, forecast fitted in-process):")
        print(run_rss([py, "-c", STAPPEN, str(ds), a.peildatum])[2].rstrip())


if __name__ == "__main__":
    main()
