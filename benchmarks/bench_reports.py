"""Benchmark: the quarterly run ``jeugdlib reports`` of this checkout against an earlier version.

    .venv/bin/python benchmarks/bench_reports.py DATA [--oud DIR] [--kwartaal 2024Q2]
        [--regio NAAM|alle] [--workers N]

Each version runs the real command once in a child process (earlier version from
its own checkout, first on PYTHONPATH) into a temporary folder; printed per version:
wall time, peak memory of the whole process tree (summed RSS of the command, its
worker processes and their kernels, sampled every 0.2 s), and how many reports
ended ok according to the run's run.json, and where the time went: the one-off part
(cleaning and the KPI rows, ``kpis.seconden``) and per report the mean and largest
notebook time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kpi import ROOT, run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--oud", type=Path, default=None)
    ap.add_argument("--kwartaal", default="2024Q2")
    ap.add_argument("--regio", default="alle")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    versies = {"nieuw": ROOT}
    if args.oud:
        versies = {"oud": args.oud.resolve(), **versies}
    for naam, map_ in versies.items():
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "jeugdlib.cli", "reports", "--data", str(args.data.resolve()),
                   "--kwartaal", args.kwartaal, "--regio", args.regio, "--out", tmp, "--quiet"]
            if args.workers:
                cmd += ["--workers", str(args.workers)]
            s, gb, rc = run(cmd, dict(os.environ, PYTHONPATH=str(map_)), map_)
            runs = list(Path(tmp).glob("*/run.json"))
            ok = tot = 0
            if runs:
                info = json.loads(runs[0].read_text())
                notebooks = info.get("notebooks", info.get("uitkomsten", []))
                tot = len(notebooks)
                ok = sum(1 for n in notebooks if n.get("status") == "ok" or n.get("ok") is True)
            print(f"{naam:5s}: {s:7.1f} s, piek geheugen (procesboom) {gb:5.2f} GB, {ok}/{tot} rapporten ok, "
                  f"exit {rc}", flush=True)
            if runs:
                if isinstance(info.get("kpis"), dict) and "seconden" in info["kpis"]:
                    print(f"       opschonen en KPI-rijen (eenmalig): {info['kpis']['seconden']:.1f} s")
                per: dict[str, list[float]] = {}
                for n in notebooks:
                    per.setdefault(n.get("rapport", "?"), []).append(float(n.get("seconden", 0)))
                for r, t in sorted(per.items(), key=lambda kv: -sum(kv[1])):
                    print(f"       {r:20s} {len(t):3d} x, gemiddeld {sum(t) / len(t):5.1f} s, max {max(t):5.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
