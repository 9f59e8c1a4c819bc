"""Benchmark: ``jeugdlib kpi --per jaar`` against merely reading the Parquet tables.

Issue 4: on the national-scale processed data, the KPI command may take at most
10 times as long as reading the same Parquet tables into pandas, with peak
memory under 8 GB. Both are measured here side by side in one run, each in its
own child process (so each has its own peak RSS, from ``os.wait4``), after one
untimed read that warms the page cache for both. The timed runs do not sample
memory; one more run of each samples the summed memory (PSS) of the whole
process tree, which ``jeugdlib kpi`` needs (it uses three processes at scale).

    .venv/bin/python benchmarks/bench_kpi.py [DATASET] [--peildatum 2024-08-01] [--repeat 1] [--workers N] [--modules]

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

# Ends with os._exit: pyarrow 26 now and then aborts at interpreter exit (SIGABRT,
# "terminate called without an active exception", apache/arrow#34314) after the
# work is done; leaving without the teardown avoids that and times only the read.
READ = """
import os, sys, glob, pandas as pd
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.parquet")):
    n += len(pd.read_parquet(f, dtype_backend="pyarrow"))
print(n, flush=True)
os._exit(0)
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


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _pss_gb(pid: int) -> float:
    """Proportional set size of ``pid`` and its descendants, in GB: the physical
    memory of the whole process tree, pages shared between a process and its
    fork counted once."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1e6


def run_rss(cmd: list[str], sample: bool = True) -> tuple[float, float, str, float]:
    """Run a child; return (seconds, peak RSS of the largest process in GB, stdout,
    peak total memory of the process tree in GB, or NaN without ``sample``).

    The peak RSS comes from ``os.wait4`` (the child and the descendants it waited
    for, each on its own). The peak total is sampled every 50 ms as the summed
    PSS of the child and all its descendants (``jeugdlib kpi`` runs a forked
    second process and a model-fit process on large data), so memory used by
    several processes at once is counted, shared pages once. Sampling is not
    free (reading smaps_rollup of a 6 GB process costs ~50 ms CPU, a third of a
    core at this rate), so timed runs are made without it (``sample=False``).
    """
    import threading

    t0 = time.perf_counter()
    peak = [0.0]
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=ROOT)
        done = threading.Event()

        def sampler():
            while not done.wait(0.05):
                peak[0] = max(peak[0], _pss_gb(p.pid))

        th = threading.Thread(target=sampler, daemon=True)
        if sample:
            th.start()
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        done.set()
        if sample:
            th.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(), fe.read().decode()
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return secs, ru.ru_maxrss / 1e6, out, peak[0] if sample else float("nan")  # ru_maxrss: KB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default=None)
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    ap.add_argument("--workers", type=int, default=None, help="passed to jeugdlib kpi (default: its own choice)")
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

    read_cmd = [py, "-c", READ, str(ds)]
    run_rss(read_cmd, sample=False)  # warm the page cache, untimed
    reads, kpis = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "kpis.csv"
        kpi_cmd = [py, "-m", "jeugdlib.cli", "kpi", str(ds), "--peildatum", a.peildatum, "--per", "jaar",
                   "--out", str(out), "--quiet"] + (["--workers", str(a.workers)] if a.workers else [])
        for _ in range(a.repeat):  # timed, side by side, without memory sampling
            reads.append(run_rss(read_cmd, sample=False))
            kpis.append(run_rss(kpi_cmd, sample=False))
        # one more run of each sampling the summed memory of the process tree
        r_mem, k_mem = run_rss(read_cmd), run_rss(kpi_cmd)
        n_rows = sum(1 for _ in out.open()) - 1
    r = min(reads, key=lambda x: x[0])
    k = min(kpis, key=lambda x: x[0])
    rss_r, rss_k = max(x[1] for x in reads + [r_mem]), max(x[1] for x in kpis + [k_mem])
    print(f"rows read: {int(r[2].strip()):,}")
    print(f"timed runs (fastest of {a.repeat}; all: read {', '.join(f'{x[0]:.1f}' for x in reads)} s; "
          f"kpi {', '.join(f'{x[0]:.1f}' for x in kpis)} s)")
    print(f"read Parquet into pandas : {r[0]:7.1f} s   peak RSS {rss_r:5.2f} GB   peak total {r_mem[3]:5.2f} GB")
    print(f"jeugdlib kpi --per jaar  : {k[0]:7.1f} s   peak RSS {rss_k:5.2f} GB   peak total {k_mem[3]:5.2f} GB"
          f"   ({n_rows:,} KPI rows)")
    print(f"(the runs sampling memory took {r_mem[0]:.1f} s and {k_mem[0]:.1f} s)")
    ratio = k[0] / r[0]
    mem = max(rss_k, k_mem[3])
    print(f"ratio kpi / read         : {ratio:7.1f}   (target <= 10)")
    print(f"peak memory kpi          : {mem:7.2f} GB (target < 8 GB; the larger of the two peaks)")
    print("verdict:", "OK" if ratio <= 10 and mem < 8 else "NOT MET")
    if a.modules:
        print("per step (one process, forecast fitted in-process):")
        print(run_rss([py, "-c", STAPPEN, str(ds), a.peildatum])[2].rstrip())


if __name__ == "__main__":
    main()
