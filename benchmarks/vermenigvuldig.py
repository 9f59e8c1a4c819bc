"""Make a processed dataset N times as large by copies with suffixed ids (benchmarks).

    python benchmarks/vermenigvuldig.py SRC DST [--factor 5]

Copy k (k = 0 .. N-1) of every data table gets ``-k`` appended to client_id,
toewijzing_nr, declaratie_nr, referentie_nr and vorig_referentie_nr (copy 0 keeps
them), so every copy is a distinct set of clients and toewijzingen with the same
dates, products, aanbieders and gemeenten. Reference tables are copied as they are.
Written with DuckDB, in bounded memory. The national demo x 5 is about 46 million
declaration lines: roughly the whole country's real volume over five years.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SUFFIX = ("client_id", "toewijzing_nr", "declaratie_nr", "referentie_nr", "vorig_referentie_nr")
DATA = ("toewijzingen", "declaraties", "start_stop", "verzoeken", "afwijzingen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--factor", type=int, default=5)
    args = ap.parse_args()
    args.dst.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'").fetchall()
    for f in sorted(args.src.glob("*.parquet")):
        t = f.stem
        if t not in DATA:
            shutil.copy2(f, args.dst / f.name)
            continue
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").fetchall()]
        sel = ", ".join(f"CASE WHEN k = 0 OR \"{c}\" IS NULL OR \"{c}\" = '' THEN \"{c}\" "
                        f"ELSE \"{c}\" || '-' || k END AS \"{c}\"" if c in SUFFIX else f'"{c}"' for c in cols)
        con.execute(f"""COPY (SELECT {sel} FROM read_parquet('{f}'), range({args.factor}) r(k) ORDER BY k)
                        TO '{args.dst / f.name}' (FORMAT parquet, COMPRESSION zstd)""").fetchall()
        n = con.execute(f"SELECT count(*) FROM read_parquet('{args.dst / f.name}')").fetchall()[0][0]
        print(f"{t}: {n:,} rijen", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
