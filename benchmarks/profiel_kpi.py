"""Profile: where ``jeugdlib kpi`` spends its time, step by step.

Times the read and cleaning (metrics.md section 0) and then every registered KPI in
registry order on one connection, as ``kpi_table`` runs them, and prints the slowest
first. A tool for finding what to speed up, not a benchmark of record (that is
``bench_kpi.py``, which runs the real command beside the earlier version).

    .venv/bin/python benchmarks/profiel_kpi.py DATA [--peildatum 2024-08-01] [--per jaar]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from jeugdlib import clean, engine
from jeugdlib.config import Params
from jeugdlib.kpi import verwerkt_pad
from jeugdlib.metrics._common import registry


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--per", default="jaar")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    bron = verwerkt_pad(a.data)
    t0 = time.perf_counter()
    con = engine.connect()
    c = clean.clean(bron, Params(peildatum=a.peildatum, per=a.per), con=con)
    tijden = {"(clean)": time.perf_counter() - t0}
    for k, d in registry().items():
        t = time.perf_counter()
        d.functie(c)
        tijden[k] = time.perf_counter() - t
    totaal = sum(tijden.values())
    print(f"totaal {totaal:.1f} s")
    for k, s in sorted(tijden.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"{s:7.2f} s  {k}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
