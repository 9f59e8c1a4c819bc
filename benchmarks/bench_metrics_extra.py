"""Time the part-B metric modules (verzilvering, verlenging, zorgduur, budget,
verwijzer, verdeelsleutel) on national-sized data.

Uses ``data/processed/national`` (cleaned with jeugdlib.clean) when it exists,
else synthetic Cleaned-like frames of the given size. Prints seconds per module
and the peak resident memory.

    .venv/bin/python benchmarks/bench_metrics_extra.py [--clients N] [--per jaar]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from jeugdlib import config, schema
from jeugdlib.config import Params
from jeugdlib.metrics import budget, verdeelsleutel, verlenging, verwijzer, verzilvering, zorgduur


def synthetic(n_clients: int, seed: int = 1) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    gem = pd.read_csv(config.SHARED_DIR / "ref" / "gemeenten_2026.csv", dtype=str)
    gem = gem.rename(columns={c: c.strip() for c in gem.columns})
    codes = gem["gemeentecode"].to_numpy()
    regio_van = dict(zip(gem["gemeentecode"], gem["regio_naam"]))
    per_client = rng.integers(1, 5, n_clients)
    n = int(per_client.sum())
    client = np.repeat(np.arange(n_clients), per_client)
    gcode = codes[rng.integers(0, len(codes), n_clients)][client]
    ing = pd.Timestamp("2020-06-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    dur = rng.integers(20, 700, n)
    eind = ing + pd.to_timedelta(dur, unit="D")
    peil = pd.Timestamp("2024-08-01")
    eind = pd.Series(eind).where(rng.random(n) > 0.15)
    fv = np.array(["inspanning", "traject", "plek"])[rng.integers(0, 3, n)]
    pg = np.array(["GGZ", "AP1", "AP2", "AHD", "OG"])[rng.integers(0, 5, n)]
    t = pd.DataFrame({
        "toewijzing_nr": pd.array([f"T{i}" for i in range(n)], dtype=schema.S),
        "client_id": pd.array([f"c{c}" for c in client], dtype=schema.S),
        "gemeentecode": pd.array(gcode, dtype=schema.S),
        "regio": pd.array([regio_van[g] for g in gcode], dtype=schema.S),
        "agb": pd.array([f"{a:08d}" for a in rng.integers(0, 3000, n)], dtype=schema.S),
        "productcode": pd.array(np.char.add(pg.astype(str), rng.integers(0, 6, n).astype(str)), dtype=schema.S),
        "productgroep": pd.array(pg, dtype=schema.S),
        "financieringsvorm": pd.array(fv, dtype=schema.S),
        "aanbieder_type": pd.array(np.where(rng.random(n) < 0.15, "micro", "regulier"), dtype=schema.S),
        "ingangsdatum": pd.Series(ing).astype(schema.D),
        "einddatum": eind.astype(schema.D),
        "volume": pd.array(rng.integers(1, 10, n), dtype=schema.I),
        "eenheid": pd.array(np.where(rng.random(n) < 0.05, "83", "04"), dtype=schema.S),
        "frequentie": pd.array(np.array(["1", "2", "4", "6"])[rng.integers(0, 4, n)], dtype=schema.S),
        "budget_cent": pd.array([None] * n, dtype=schema.I),
        "tarief_cent": pd.array(rng.integers(5000, 15000, n), dtype=schema.I),
    })
    t = t[t["ingangsdatum"] < peil].reset_index(drop=True)
    t["einddatum_eff"] = t["einddatum"].where(t["einddatum"] < peil, peil - pd.Timedelta(days=1)).fillna(
        peil - pd.Timedelta(days=1))
    # Declarations: one item per toewijzing-month (up to 12), like monthly billing.
    months = np.minimum(((t["einddatum_eff"] - t["ingangsdatum"]).dt.days // 30 + 1).to_numpy(), 12)
    idx = np.repeat(np.arange(len(t)), months)
    off = np.arange(len(idx)) - np.repeat(np.cumsum(months) - months, months)
    pb = (t["ingangsdatum"].to_numpy()[idx].astype("datetime64[M]") + off).astype("datetime64[ns]")
    d = pd.DataFrame({
        "toewijzing_nr": t["toewijzing_nr"].to_numpy()[idx],
        "client_id": t["client_id"].to_numpy()[idx],
        "agb": t["agb"].to_numpy()[idx],
        "gemeentecode": t["gemeentecode"].to_numpy()[idx],
        "regio": t["regio"].to_numpy()[idx],
        "productcode": t["productcode"].to_numpy()[idx],
        "periode_begin": pb,
        "eenheid": t["eenheid"].to_numpy()[idx],
        "volume": pd.array(rng.integers(1, 8, len(idx)), dtype=schema.I),
        "bedrag_cent": pd.array(rng.integers(1000, 90000, len(idx)), dtype=schema.I),
        "toewijzing_bekend": pd.array(np.ones(len(idx), bool), dtype=schema.B),
    })
    d = d[d["periode_begin"] < peil].reset_index(drop=True)
    for c in ("toewijzing_nr", "client_id", "agb", "gemeentecode", "regio", "productcode", "eenheid"):
        d[c] = d[c].astype(schema.S)
    agbs = d["agb"].drop_duplicates().iloc[:500]
    plaf = pd.DataFrame({"agb": np.repeat(agbs.to_numpy(), 4), "jaar": np.tile([2021, 2022, 2023, 2024], len(agbs)),
                         "plafond_cent": 10**8, "productcode": None, "gemeentecode": None})
    vz = t.sample(frac=0.3, random_state=1)
    verz = pd.DataFrame({"client_id": vz["client_id"], "gemeentecode": vz["gemeentecode"], "regio": vz["regio"],
                         "agb": vz["agb"], "productcode": vz["productcode"], "ingangsdatum": vz["ingangsdatum"],
                         "verwijzer_type": pd.array(np.array(["01", "02", "03", "04", "06"])[
                             rng.integers(0, 5, len(vz))], dtype=schema.S)})
    bev = pd.DataFrame({"gemeentecode": np.repeat(codes, 5), "jaar": np.tile(np.arange(2020, 2025), len(codes)),
                        "jeugdigen": 5000})
    g = gem[["gemeentecode", "gemeentenaam", "regio_code", "regio_naam"]].astype(schema.S)
    return SimpleNamespace(toewijzingen=t, declaraties=d, budgetplafonds=plaf, verzoeken=verz, gemeenten=g,
                           bevolking=bev, toewijzingen_ingetrokken=None, dataset=None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=600_000)
    ap.add_argument("--per", default="jaar")
    ap.add_argument("--peildatum", default="2024-08-01")
    args = ap.parse_args()
    params = Params(peildatum=args.peildatum, per=args.per)
    src = config.PROCESSED_DIR / "national"
    t0 = time.perf_counter()
    if (src / "toewijzingen.parquet").exists():
        from jeugdlib.clean import clean
        from jeugdlib.dataset import load
        cleaned = clean(load(src), params)
        what = f"{src} (cleaned)"
    else:
        cleaned = synthetic(args.clients)
        what = f"synthetic, {args.clients} clients"
    print(f"data: {what}: {len(cleaned.toewijzingen):,} toewijzingen, {len(cleaned.declaraties):,} "
          f"declaration items; prepared in {time.perf_counter() - t0:.1f} s")
    # Reference: reading the two big tables from Parquet (what `jeugdlib kpi` starts with).
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("toewijzingen", "declaraties"):
            getattr(cleaned, name).to_parquet(Path(tmp) / f"{name}.parquet", compression="zstd")
        t0 = time.perf_counter()
        for name in ("toewijzingen", "declaraties"):
            pd.read_parquet(Path(tmp) / f"{name}.parquet", dtype_backend="pyarrow")
        lezen = time.perf_counter() - t0
    print(f"reading toewijzingen + declaraties from Parquet: {lezen:.2f} s")
    total = 0.0
    for mod in (verzilvering, verlenging, zorgduur, budget, verwijzer, verdeelsleutel):
        t0 = time.perf_counter()
        rows = mod.kpis(cleaned, params)
        dt = time.perf_counter() - t0
        total += dt
        print(f"{mod.__name__.rsplit('.', 1)[1]:>15}: {dt:6.2f} s  {len(rows):>8,} rows")
    print(f"{'total':>15}: {total:6.2f} s  (per={args.per}); {total / lezen:.1f} x the Parquet read")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")


if __name__ == "__main__":
    main()
