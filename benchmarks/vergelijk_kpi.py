"""Compare the KPI table of this version with that of an earlier version, row by row.

    python benchmarks/vergelijk_kpi.py DATA --oud DIR [--per jaar kwartaal maand]
        [--peildatum 2024-08-01] [--kpi ID ...] [--cache DIR]

DATA is a processed dataset; ``--oud`` a checkout of the earlier version (e.g.
``git worktree add ../oud <commit>``), run as ``python -m jeugdlib.cli kpi`` with
that checkout first on PYTHONPATH. Both tables are compared with and without
suppression: the same rows (kpi, regio, gemeente, periode, dimensie), values equal
within 1e-9 relative, the same ``onderdrukt`` and ``voorlopig``. KPIs the earlier
version did not have are named, not compared. Differences are listed per KPI; the
exit status is 1 when any were found.

This is how the DuckDB engine was held to the numpy engine it replaced (issue
"One engine"); differences that are bug fixes are named in the CHANGELOG.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SLEUTEL = ["kpi", "regio", "gemeente", "periode", "dimensie"]


def oude_tabel(oud: Path, data: Path, peildatum: str, per: str, onderdrukken: bool, cache: Path) -> pd.DataFrame:
    """The earlier version's table (cached in ``cache`` by dataset, peildatum, per, suppression)."""
    naam = f"{data.name}_{peildatum}_{per}_{'s' if onderdrukken else 'ns'}.csv"
    f = cache / naam
    if not f.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "jeugdlib.cli", "kpi", str(data), "--peildatum", peildatum, "--per", per,
               "--out", str(f), "--quiet"]
        if not onderdrukken:
            cmd.append("--no-suppression")
        env = dict(os.environ, PYTHONPATH=str(oud))
        subprocess.run(cmd, check=True, env=env, cwd=str(oud))
    return pd.read_csv(f, dtype={c: str for c in SLEUTEL}, keep_default_na=False, na_values={"waarde": [""]})


def nieuwe_tabellen(data: Path, peildatum: str, per: str, kpis) -> dict[bool, pd.DataFrame]:
    from jeugdlib import clean, config, kpi

    p = config.Params(peildatum, per=per)
    c = clean.clean(data, p)
    rows = kpi.kpi_rows(c, kpis)
    return {s: kpi.afwerken(rows, p, suppression=s) for s in (True, False)}


def vergelijk(oud: pd.DataFrame, nieuw: pd.DataFrame) -> pd.DataFrame:
    """Per KPI: rows only in the old table, only in the new one, differing values/flags."""
    nieuw = nieuw.copy()
    oud = oud.copy()
    for c in SLEUTEL:  # plain strings on both sides (also for empty tables)
        nieuw[c] = nieuw[c].astype(str).astype(object)
        oud[c] = oud[c].astype(str).astype(object)
    m = oud.merge(nieuw, on=SLEUTEL, how="outer", suffixes=("_oud", "_nieuw"), indicator=True)
    a, b = m["waarde_oud"].astype(float), m["waarde_nieuw"].astype(float)
    gelijk = (a.isna() & b.isna()) | (np.abs(a - b) <= 1e-9 * np.maximum(np.abs(a), np.abs(b)))
    vlag = lambda s: s.astype(str).str.lower().isin(["true", "1"])  # noqa: E731
    both = m["_merge"] == "both"
    m["verschil"] = both & (~gelijk | (vlag(m["onderdrukt_oud"]) != vlag(m["onderdrukt_nieuw"]))
                            | (vlag(m["voorlopig_oud"]) != vlag(m["voorlopig_nieuw"])))
    out = m.groupby("kpi").agg(
        rijen_oud=("_merge", lambda s: int((s != "right_only").sum())),
        alleen_oud=("_merge", lambda s: int((s == "left_only").sum())),
        alleen_nieuw=("_merge", lambda s: int((s == "right_only").sum())),
        verschillend=("verschil", "sum"))
    return out[(out["alleen_oud"] > 0) | (out["alleen_nieuw"] > 0) | (out["verschillend"] > 0)], m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--oud", type=Path, required=True)
    ap.add_argument("--per", nargs="+", default=["jaar", "kwartaal", "maand"])
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--kpi", nargs="*", default=None, help="only these KPI ids")
    ap.add_argument("--cache", type=Path, default=Path("benchmarks/out/vergelijk"))
    ap.add_argument("--voorbeelden", type=int, default=5, help="example rows per differing KPI")
    args = ap.parse_args()
    data = args.data.resolve()
    fout = False
    for per in args.per:
        nieuw = nieuwe_tabellen(data, args.peildatum, per, args.kpi)
        for s in (True, False):
            oud = oude_tabel(args.oud.resolve(), data, args.peildatum, per, s, args.cache.resolve())
            if args.kpi:
                oud = oud[oud["kpi"].isin(args.kpi)]
            nieuwe_kpis = sorted(set(nieuw[s]["kpi"]) - set(oud["kpi"]))
            samenvatting, m = vergelijk(oud, nieuw[s][~nieuw[s]["kpi"].isin(nieuwe_kpis)])
            kop = f"{data.name} per {per} {'met' if s else 'zonder'} onderdrukking: {len(oud):,} rijen oud, " \
                  f"{len(nieuw[s]):,} nieuw"
            if nieuwe_kpis:
                kop += f" (waarvan nieuwe KPI's zonder oude tegenhanger: {', '.join(nieuwe_kpis)})"
            if len(samenvatting) == 0:
                print(f"{kop}: gelijk")
                continue
            fout = True
            print(f"{kop}: VERSCHILLEN\n{samenvatting.to_string()}")
            for k in samenvatting.index:
                sel = m[(m["kpi"] == k) & ((m["_merge"] != "both") | m["verschil"])]
                print(sel[SLEUTEL + ["waarde_oud", "waarde_nieuw", "onderdrukt_oud", "onderdrukt_nieuw", "_merge"]]
                      .head(args.voorbeelden).to_string())
    return 1 if fout else 0


if __name__ == "__main__":
    sys.exit(main())
