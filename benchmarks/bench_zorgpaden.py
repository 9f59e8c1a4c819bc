"""Benchmark: zorgpaden and labels (metrics.md sections 5 and 6) at national scale.

Target (issue 5): zorgpaden and labels for the national-scale data in under 60 s,
vectorised. Uses ``data/processed/national`` when it exists (cleaned with
``jeugdlib.clean``), else a synthetic Cleaned-like toewijzingen/declaraties pair of
national size (default 1.5M toewijzingen, 500k clients, ~6 declared months each).

    .venv/bin/python benchmarks/bench_zorgpaden.py                 # real data if present, else synthetic
    .venv/bin/python benchmarks/bench_zorgpaden.py --synthetic     # force synthetic
    .venv/bin/python benchmarks/bench_zorgpaden.py --toewijzingen 1500000 --clienten 500000
    .venv/bin/python benchmarks/bench_zorgpaden.py --data data/processed/demo

Prints the figures (seconds per step, rows, zorgpaden, distinct labels).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jeugdlib import config, schema  # noqa: E402
from jeugdlib.config import Params  # noqa: E402
from jeugdlib.metrics import trajecten  # noqa: E402

PEILDATUM = "2024-08-01"


def synthetic(n_toew: int, n_clients: int, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A Cleaned-like toewijzingen frame (and its declaration items) of the given size.

    Six productgroepen with traject products (licht/midden/zwaar, P*Q maatwerk and
    meerwerk); per client a few toewijzingen, often in sequence within a group so
    that zorgpaden of several toewijzingen with overlaps and gaps occur.
    """
    rng = np.random.default_rng(seed)
    peil = pd.Timestamp(PEILDATUM)
    client = np.sort(rng.integers(0, n_clients, n_toew))
    groups = np.array(["GGZ", "Ambulant perspectief 1", "Ambulant perspectief 2", "Ambulante hulp duurzaam",
                       "Dagbesteding", "Ontwikkelgroep"])
    # mostly the client's own group: group = (client + small noise) % 6
    grp = (client + (rng.random(n_toew) < 0.15) * rng.integers(1, 6, n_toew)) % len(groups)
    kind = rng.choice(5, n_toew, p=[0.25, 0.25, 0.2, 0.2, 0.1])  # licht midden zwaar maatwerk meerwerk
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1640, n_toew), unit="D")
    dur = rng.integers(30, 400, n_toew)
    eind = start + pd.to_timedelta(dur, unit="D")
    open_ = rng.random(n_toew) < 0.1
    eind = pd.Series(eind).where(~open_)
    eind_eff = eind.where(eind.notna() & (eind < peil), peil - pd.Timedelta(days=1))
    fv = np.where(kind < 3, "traject", "inspanning")
    zw = np.array(["licht", "midden", "zwaar", None, None], dtype=object)[kind]
    va = np.array([None, None, None, "maatwerk", "meerwerk"], dtype=object)[kind]
    gem = np.array(list(config.demo_gemeenten()["gemeentecode"]), dtype=object)
    reg = dict(zip(config.demo_gemeenten()["gemeentecode"], config.demo_gemeenten()["regio_naam"]))
    g_of_client = gem[np.arange(n_clients) % len(gem)][client]
    t = pd.DataFrame({
        "toewijzing_nr": pd.array(np.char.add("T", np.arange(n_toew).astype(str)), dtype=schema.S),
        "client_id": pd.array(np.char.add("c", client.astype(str)), dtype=schema.S),
        "agb": pd.array(np.char.add("0", (10000000 + rng.integers(0, 2000, n_toew)).astype(str)), dtype=schema.S),
        "gemeentecode": pd.array(g_of_client, dtype=schema.S),
        "regio": pd.array(pd.Series(g_of_client).map(reg).to_numpy(), dtype=schema.S),
        "productcode": pd.array(np.char.add("P", (grp * 5 + kind).astype(str)), dtype=schema.S),
        "productgroep": pd.array(groups[grp], dtype=schema.S),
        "financieringsvorm": pd.array(fv, dtype=schema.S),
        "zwaarte": pd.array(zw, dtype=schema.S),
        "variant": pd.array(va, dtype=schema.S),
        "norm_uren": pd.array(np.array([10.0, 23.0, 45.0, np.nan, np.nan])[kind], dtype=schema.F),
        "norm_maanden": pd.array(np.where(kind < 3, 12.0, np.nan), dtype=schema.F),
        "trajectprijs_cent": pd.array(np.where(kind < 3, 300000, 0), dtype=schema.I),
        "ingangsdatum": pd.Series(start).astype(schema.D),
        "einddatum": eind.astype(schema.D),
        "einddatum_eff": eind_eff.astype(schema.D),
    })
    # Declaration items: one per declared month, ~6 per toewijzing on average.
    m0 = np.asarray(t["ingangsdatum"].to_numpy(), dtype="datetime64[M]").astype(np.int64)
    m1 = np.asarray(t["einddatum_eff"].to_numpy(), dtype="datetime64[M]").astype(np.int64)
    n = np.minimum(m1 - m0 + 1, rng.integers(1, 12, n_toew))
    rep = np.repeat(np.arange(n_toew), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    maand = (m0[rep] + offs).astype("datetime64[M]").astype("datetime64[ns]")
    d = pd.DataFrame({
        "toewijzing_nr": t["toewijzing_nr"].to_numpy()[rep],
        "agb": t["agb"].to_numpy()[rep],
        "periode_begin": maand,
        "maand": maand,
        "eenheid": pd.array(np.where(kind[rep] < 3, "82", "04"), dtype=schema.S),
        "volume": pd.array(rng.integers(1, 20, len(rep)), dtype=schema.I),
        "bedrag_cent": pd.array(rng.integers(-5000, 250000, len(rep)), dtype=schema.I),
    })
    d["toewijzing_nr"] = d["toewijzing_nr"].astype(schema.S)
    d["agb"] = d["agb"].astype(schema.S)
    return t, d


def run(t: pd.DataFrame, d: pd.DataFrame, params: Params, label: str) -> None:
    print(f"[{label}] toewijzingen={len(t):,} clienten={t['client_id'].nunique():,} declaratie-posten={len(d):,}")
    groepen = trajecten.traject_groepen(t)
    tt = t[t["productgroep"].isin(groepen).to_numpy(dtype=bool)].reset_index(drop=True)
    print(f"  productgroepen met trajecten: {len(groepen)}; toewijzingen daarin: {len(tt):,}")

    t0 = time.perf_counter()
    zp = trajecten.zorgpad_ids(tt, params).to_numpy()
    t1 = time.perf_counter()
    lab = trajecten.zorgpad_labels(zp, tt["ingangsdatum"], tt["einddatum_eff"], trajecten.label_bits(tt))
    t2 = time.perf_counter()
    print(f"  zorgpad_ids (chaining):          {t1 - t0:6.1f} s")
    print(f"  zorgpad_labels (time-sliced):    {t2 - t1:6.1f} s")
    print(f"  zorgpaden + labels:              {t2 - t0:6.1f} s   ({len(lab):,} zorgpaden, "
          f"{lab['label'].nunique():,} distinct labels)")

    t3 = time.perf_counter()
    full = trajecten.zorgpaden(t, d, params, groepen=groepen, met_client_id=True)
    t4 = time.perf_counter()
    print(f"  zorgpaden() full table (labels, doorlooptijd, volume, kosten): {t4 - t3:6.1f} s "
          f"({len(full):,} rows)")
    t5 = time.perf_counter()
    k = trajecten.zorgpad_kpis(full, params)
    t6 = time.perf_counter()
    print(f"  zorgpad_kpis (3 levels):         {t6 - t5:6.1f} s ({len(k):,} KPI rows)")
    top = trajecten.top_labels(full, n=3)
    print(top.head(9).to_string(index=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", action="store_true", help="ignore data/processed/national")
    ap.add_argument("--data", default=None, help="another processed dataset (default data/processed/national)")
    ap.add_argument("--toewijzingen", type=int, default=1_500_000)
    ap.add_argument("--clienten", type=int, default=500_000)
    ap.add_argument("--peildatum", default=PEILDATUM)
    args = ap.parse_args(argv)
    params = Params(peildatum=args.peildatum)
    national = Path(args.data) if args.data else config.PROCESSED_DIR / "national"
    from jeugdlib import dataset
    if not args.synthetic and dataset.is_processed(national):
        from jeugdlib import clean
        t0 = time.perf_counter()
        ds = dataset.load(national)
        c = clean.clean(ds, params)
        print(f"load + clean {national}: {time.perf_counter() - t0:.1f} s (not part of the target)")
        run(c.toewijzingen, c.declaraties, params, national.name)
    else:
        t0 = time.perf_counter()
        t, d = synthetic(args.toewijzingen, args.clienten)
        print(f"synthetic data generated in {time.perf_counter() - t0:.1f} s (not part of the target)")
        run(t, d, params, "synthetic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
