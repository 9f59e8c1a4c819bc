"""Compare two processed datasets table by table (e.g. the ingest of an older revision and of this tree).

    .venv/bin/python benchmarks/vergelijk_ingest.py OLD_OUT NEW_OUT

For every Parquet table of OLD_OUT (a processed dataset folder or its version link):
the row counts, the rows of each side missing from the other (DuckDB ``EXCEPT ALL`` both
ways, so row order does not matter but every duplicate row counts) and whether the rows
also come in the same order. Exits 1 when any table differs in content.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def main() -> int:
    old, new = (Path(a).resolve() for a in sys.argv[1:3])
    con = duckdb.connect()
    bad = 0
    for p in sorted(old.glob("*.parquet")):
        q = new / p.name
        if not q.exists():
            print(f"{p.stem:<16} missing in {new}")
            bad += 1
            continue
        a, b = f"read_parquet('{p}')", f"read_parquet('{q}')"
        na, nb = (con.execute(f"SELECT count(*) FROM {x}").fetchone()[0] for x in (a, b))
        only_old = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()[0]
        only_new = con.execute(f"SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})").fetchone()[0]
        same_order = con.execute(
            f"SELECT count(*) FROM (SELECT row_number() OVER () AS rn, * FROM {a}) x "
            f"FULL JOIN (SELECT row_number() OVER () AS rn, * FROM {b}) y USING (rn) "
            f"WHERE x IS DISTINCT FROM y").fetchone()[0] == 0 if only_old == only_new == 0 else False
        ok = na == nb and only_old == 0 and only_new == 0
        bad += not ok
        print(f"{p.stem:<16} rows {na:>10} / {nb:>10}  only old {only_old:>6}  only new {only_new:>6}  "
              f"{'equal' if ok else 'DIFFERENT'}{', same order' if same_order else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
