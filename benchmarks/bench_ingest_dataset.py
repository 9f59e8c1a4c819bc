"""Benchmark: ingest of one given dataset, this working tree against an older revision.

    .venv/bin/python benchmarks/bench_ingest_dataset.py DATASET [--old REV] [--workers N ...]
                                                        [--repeat N] [--subset N] [--profile]

Times ``jeugdlib.ingest.ingest(DATASET, <tmp>, workers=N)`` in a fresh child process per
run (imports excluded from the timing, reported once), for the code of this working tree
("new") and, with ``--old REV``, for the code of git revision REV ("old", exported with
``git archive`` to a temporary folder and put first on ``PYTHONPATH``). Reports wall time,
CPU seconds of the child and its pool processes, message files per wall second and per
CPU second, peak RSS of the child and of its largest pool process, and the counts
(gelezen/behouden/quarantaine/overgeslagen) so that the two runs can be compared.

Note: an older revision may not read everything a newer one reads (before issue 13: no
zip archives, no iJw 3.0/3.1, no JW325); its counts then differ and the comparison is
of different work. Compare on a dataset both read alike, or read the counts.

``--cold``: drop the message files from the page cache before every run (a dataset of
millions of small files is read from disk, not from memory, in real use).

``--subset N``: ingest a copy of the first N message files (path order) instead, e.g. of
the national demo to profile per-file overhead. ``--profile``: one extra run of the new
code in one process under cProfile, the 30 most expensive functions (cumulative).

The machine may be shared: take the fastest of ``--repeat`` runs and read CPU beside wall.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
from jeugdlib import ingest
imp = time.perf_counter() - t0
ds, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
c0 = os.times()
t = time.perf_counter()
res = ingest.ingest(ds, out, quiet=True, workers=workers)
wall = time.perf_counter() - t
c1 = os.times()
cpu = (c1.user - c0.user) + (c1.system - c0.system) + res.worker_cpu
tel = res.telling
def peak_mb():
    # VmHWM: the peak of this process image (ru_maxrss keeps the peak of the parent across
    # fork and exec, e.g. of a benchmark that listed millions of files first)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
tot = {c: int(tel[c].sum()) for c in ("gelezen", "behouden", "quarantaine", "overgeslagen")}
print(json.dumps(dict(wall=wall, cpu=cpu, imp=imp, files=res.n_berichten, workers=res.workers,
                      rss_mb=peak_mb(),
                      pool_rss_mb=res.worker_rss_mb, **tot)))
"""


def _export(rev: str, dest: Path) -> Path:
    """The package of revision ``rev`` in ``dest`` (``git archive``, no checkout)."""
    dest.mkdir(parents=True, exist_ok=True)
    arch = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "jeugdlib"], check=True,
                          capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arch, check=True)
    return dest


def _subset(ds: Path, n: int, dest: Path) -> Path:
    """A dataset holding the first ``n`` message files of ``ds`` (hard links where possible)."""
    from jeugdlib import ingest

    listed, _bad = ingest._list_files(ds, "berichten", (".xml", ".zip"))
    files = [r for r, _s in listed][:n]
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(ds / rel, target)
        except OSError:
            shutil.copyfile(ds / rel, target)
    shutil.copytree(ds / "referentie", dest / "referentie")
    return dest


def _evict(ds: Path) -> None:
    """Drop the dataset's message files from the page cache (DONTNEED; needs no privileges)."""
    for dp, _dn, fn in os.walk(ds / "berichten"):
        for f in fn:
            fd = os.open(os.path.join(dp, f), os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _run(pythonpath: str | None, ds: Path, workers: int) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="bench_ingest_out_") as tmp:
        out = os.path.join(tmp, "out")  # ingest publishes it as a link to a version folder
        p = subprocess.run([sys.executable, "-c", CHILD, str(ds), out, str(workers)], env=env,
                           capture_output=True, text=True, cwd=tempfile.gettempdir())
    if p.returncode != 0:
        raise SystemExit(f"ingest failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _line(label: str, r: dict) -> str:
    return (f"{label:<14} {r['wall']:8.1f} s wall {r['cpu']:8.1f} s CPU  {r['files'] / r['wall']:8.0f} files/s "
            f"{r['files'] / max(r['cpu'], 1e-9):8.0f} files/CPU-s  peak {r['rss_mb']:6.0f} MB "
            f"(pool {r['pool_rss_mb']:4.0f} MB)  read {r['gelezen']} kept {r['behouden']} "
            f"quar {r['quarantaine']} skipped {r['overgeslagen']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--old", default=None, help="git revision to compare with (e.g. 61c9f37)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--subset", type=int, default=None, help="only the first N message files")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cold", action="store_true",
                    help="drop the message files from the page cache before every run (posix_fadvise)")
    a = ap.parse_args()
    ds = Path(a.dataset).resolve()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        tmp = Path(tmp)
        if a.subset:
            ds = _subset(ds, a.subset, tmp / "subset")
        codes = {"new": str(ROOT)}
        if a.old:
            codes[f"old {a.old[:10]}"] = str(_export(a.old, tmp / "old"))
        print(f"dataset {ds}")
        for w in a.workers:
            for label, path in codes.items():
                runs = []
                for _ in range(a.repeat):
                    if a.cold:
                        _evict(ds)
                    runs.append(_run(path, ds, w))
                best = min(runs, key=lambda r: r["wall"])
                print(_line(f"{label} w={w}", best), flush=True)
        if a.profile:
            import cProfile
            import pstats

            sys.path.insert(0, str(ROOT))
            from jeugdlib import ingest

            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.runcall(ingest.ingest, ds, tmp / "prof_out", quiet=True, workers=1)
            print(f"profile (one process): {time.perf_counter() - t:.1f} s")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
