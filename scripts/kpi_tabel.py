"""The README's metric table, made from the KPI registry.

    .venv/bin/python scripts/kpi_tabel.py            # print the table (markdown)
    .venv/bin/python scripts/kpi_tabel.py --schrijf  # replace it in README.md

One row per KPI id: its Dutch label, unit, dimensions, suppression basis, the
section of metrics.md and the file that defines it; the definition is the first
paragraph of the function's docstring. A test keeps README.md in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEGIN, EIND = "<!-- kpi-tabel:begin -->", "<!-- kpi-tabel:eind -->"


def tabel() -> str:
    from jeugdlib.metrics._common import registry

    regels = ["| KPI id | label | eenheid | dimensies | definitie | bron | gedefinieerd in |",
              "|---|---|---|---|---|---|---|"]
    for k, d in registry().items():
        dims = ", ".join(d.dimensies) or "-"
        defin = d.definitie.replace("|", "\\|")
        regels.append(f"| `{k}` | {d.label} | {d.eenheid} | {dims} | {defin} | {d.bron or '-'} | "
                      f"`jeugdlib/metrics/{d.module}.py` |")
    return "\n".join(regels)


def in_readme(text: str, tbl: str) -> str:
    a, b = text.index(BEGIN) + len(BEGIN), text.index(EIND)
    return text[:a] + "\n" + tbl + "\n" + text[b:]


if __name__ == "__main__":
    t = tabel()
    if "--schrijf" in sys.argv:
        p = ROOT / "README.md"
        p.write_text(in_readme(p.read_text(encoding="utf-8"), t), encoding="utf-8")
    else:
        print(t)
