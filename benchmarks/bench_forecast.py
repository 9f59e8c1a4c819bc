"""Benchmark and backtest figures of jeugdlib.forecast (metrics.md section 10).

Usage::

    .venv/bin/python benchmarks/bench_forecast.py                 # synthetic national scale
    .venv/bin/python benchmarks/bench_forecast.py data/processed/demo --peildatum 2024-08-01

With a dataset (raw or processed) it cleans it, forecasts every regio and prints
per regio the backtest MAPE of each method, the chosen method and its lead, the
year forecast against the budget, the committed cost, and the timings. Without
one it builds a synthetic Cleaned-like input of national size (42 regions x 6
segments, monthly declaration items 2019-01..2024-07, open toewijzingen) and
prints the timings of each step.
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd

from jeugdlib import config, forecast as F


def _synthetic(n_regio: int = 42, n_segment: int = 6, items_per_month: int = 60_000,
               n_open: int = 300_000, seed: int = 1):
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2024-07-01", freq="MS")
    n = len(months) * items_per_month
    mi = np.repeat(np.arange(len(months)), items_per_month)
    regio = rng.integers(0, n_regio, n)
    season = 1 + 0.12 * np.sin(2 * np.pi * (months.month.to_numpy()[mi] - 1) / 12)
    bedrag = (rng.gamma(2.0, 60_000, n) * (1 + 0.008 * mi) * season).astype("int64")
    # declaration lag: the last three months are short
    lag = np.ones(len(months))
    lag[-3:] = [0.9, 0.7, 0.35]
    keep = rng.random(n) < lag[mi]
    dec = pd.DataFrame({
        "maand": months[mi][keep],
        "regio": pd.array([f"Regio {r:02d}" for r in regio[keep]], dtype="string[pyarrow]"),
        "segment": pd.array([f"{s} - segment" for s in rng.integers(1, n_segment + 1, keep.sum())],
                            dtype="string[pyarrow]"),
        "bedrag_cent": pd.array(bedrag[keep], dtype="int64[pyarrow]"),
        "gemeentecode": pd.array([f"{r:04d}" for r in regio[keep]], dtype="string[pyarrow]"),
        "agb": pd.array([f"{a:08d}" for a in rng.integers(0, 400, int(keep.sum()))], dtype="string[pyarrow]"),
        "productcode": pd.array([f"P{x:02d}" for x in rng.integers(0, 40, int(keep.sum()))],
                                dtype="string[pyarrow]"),
        "toewijzing_nr": pd.array([None] * int(keep.sum()), dtype="string[pyarrow]"),
        "eenheid": "04", "volume": 1.0,
    })
    ing = pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 420, n_open), unit="D")
    eind = ing + pd.to_timedelta(rng.integers(30, 700, n_open), unit="D")
    eind = pd.Series(eind).where(rng.random(n_open) > 0.2)  # 20% open-ended
    toew = pd.DataFrame({
        "toewijzing_nr": [f"T{i}" for i in range(n_open)],
        "regio": pd.array([f"Regio {r:02d}" for r in rng.integers(0, n_regio, n_open)], dtype="string[pyarrow]"),
        "productcode": pd.array([f"P{p:02d}" for p in rng.integers(0, 40, n_open)], dtype="string[pyarrow]"),
        "financieringsvorm": "inspanning",
        "ingangsdatum": ing, "einddatum": eind.to_numpy(),
        "volume": pd.array(rng.integers(1, 10, n_open), dtype="Int64"),
        "eenheid": "04", "frequentie": rng.choice(["1", "2", "4", "6"], n_open),
        "budget_cent": pd.array([None] * n_open, dtype="Int64"),
        "tarief_cent": pd.array(rng.integers(5_000, 15_000, n_open), dtype="Int64"),
    })
    gem = pd.DataFrame({"gemeentecode": [f"{i:04d}" for i in range(n_regio)],
                        "regio_naam": [f"Regio {i:02d}" for i in range(n_regio)]})
    # plafonds for the 50 largest aanbieders per gemeente (one gemeente per regio here)
    bp = pd.DataFrame({"agb": [f"{a:08d}" for a in range(50)] * n_regio, "jaar": 2024,
                       "plafond_cent": 300_000_000, "productcode": None,
                       "gemeentecode": np.repeat(gem["gemeentecode"].to_numpy(), 50)})
    return SimpleNamespace(declaraties=dec, toewijzingen=toew, budgetplafonds=bp, gemeenten=gem,
                           params=config.Params(peildatum="2024-08-01", per="kwartaal"))


def _timed(label, fn):
    """Run fn, print wall and CPU seconds (CPU: this process; wall depends on machine load)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label:<44s} wall {time.perf_counter() - t0:7.2f} s   cpu {time.process_time() - c0:7.2f} s")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default=None)
    ap.add_argument("--peildatum", default="2024-08-01")
    ap.add_argument("--per", default="kwartaal")
    args = ap.parse_args()
    fp = F.ForecastParams()
    if args.dataset:
        from jeugdlib import clean, dataset

        params = config.Params(peildatum=args.peildatum, per=args.per)
        ds = _timed("open dataset", lambda: dataset.open_dataset(args.dataset))
        c = _timed("clean", lambda: clean.clean(ds, params))
    else:
        c = _timed("build synthetic national input", _synthetic)
        params = c.params
    print(f"declaration items: {len(c.declaraties):,}; toewijzingen: {len(c.toewijzingen):,}")
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401  (import time not counted below)

    progs = _timed("prognoses per regio (+ Nederland)", lambda: F.prognoses(c, fp, peildatum=params.peildatum))
    _timed("prognoses per regio x segment", lambda: F.prognoses(c, fp, segment=True, peildatum=params.peildatum))
    ver = _timed("committed cost (verplicht)", lambda: F.verplicht(c, fp, peildatum=params.peildatum))
    k = _timed("kpis(cleaned, params) total", lambda: F.kpis(c, params, fp))
    print(f"KPI rows: {len(k):,}")

    print("\nBacktest (MAPE over the last complete quarters) and choice per regio:")
    o = F.overzicht(progs)
    tab = o.pivot(index="reeks", columns="methode", values="mape")[list(F.METHODEN)]
    tab["gekozen"] = o[o["gekozen"]].set_index("reeks")["methode"]
    lead = o[o["voorsprong"] > 0].groupby("reeks")["voorsprong"].min()
    tab["voorsprong_pp"] = (lead * 100).round(2)
    tab["kwartalen"] = o.groupby("reeks")["kwartalen"].max()
    print((tab[list(F.METHODEN)] * 100).round(2).join(tab[["gekozen", "voorsprong_pp", "kwartalen"]])
          .to_string())
    counts = tab["gekozen"].value_counts()
    print("\nchosen method:", counts.to_dict())
    jaar = (params.peil_ts - pd.Timedelta(days=1)).year
    sig = _timed("budget comparison (plafond forecasts)",
                 lambda: F.budget_vergelijking(c, progs, jaar, fp, peildatum=params.peildatum))
    if len(sig):
        print(f"\nBudget signal {jaar} (first 10):")
        print(sig.head(10).round(3).to_string(index=False))
    if len(ver):
        print(f"\nCommitted cost (euro) from the peildatum to the horizon, per regio (first 10):")
        print(ver.groupby("regio")[["maximum", "verplicht"]].sum().round(0).head(10).to_string())
    reasons = {p.naam: p.redenen for p in progs.values() if p.redenen}
    if reasons:
        print("\nReasons:", reasons)


if __name__ == "__main__":
    main()
