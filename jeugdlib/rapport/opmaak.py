"""HTML building blocks of a report: title, KPI tiles, Dutch tables, text blocks.

Each function returns an ``IPython.display.HTML`` object (shown when it is the
last expression of a cell, or via :func:`toon`), styled by :data:`CSS`, which
:func:`kop` emits once at the top of a report, so the blocks look the same in
JupyterLab and in the exported HTML.

Privacy: :func:`tabel` prints suppressed values (data-contract 3.1) as
``fmt.ONDERDRUKT`` and, as a last line of defence, suppresses any column whose
name says it counts clients (``cliënten``) where the count is from 1 to 9, and
every share (``fractie``) in a row whose count is suppressed (reports.md: a
suppressed number must not be recoverable from a share printed beside it).
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass

import pandas as pd
from IPython.display import HTML, display

from .. import fmt

CSS = """
<style>
.jl-kop{margin:0 0 .6rem}
.jl-kop h1{margin:0 0 .2rem;font-size:1.9rem}
.jl-kop .jl-sub{color:#555;font-size:1rem;margin:0}
.jl-samenvatting{background:#f3f7fb;border-left:5px solid #0072B2;padding:.7rem 1.1rem;margin:.8rem 0 1.2rem}
.jl-samenvatting h2{margin:.1rem 0 .4rem !important;border:none !important;font-size:1.25rem}
.jl-samenvatting ul{margin:.2rem 0 .2rem 1.1rem;padding:0}
.jl-samenvatting li{margin:.25rem 0}
.jl-tegels{display:flex;flex-wrap:wrap;gap:.7rem;margin:.6rem 0 1rem}
.jl-tegel{flex:1 1 120px;max-width:240px;border:1px solid #dde2e8;border-radius:8px;padding:.6rem .8rem;background:#fff}
.jl-tegel .jl-label{font-size:.82rem;color:#555;text-transform:none}
.jl-tegel .jl-waarde{font-size:1.45rem;font-weight:650;color:#0b3d6b;margin:.15rem 0;white-space:nowrap}
.jl-tegel .jl-uitleg{font-size:.75rem;color:#666}
table.jl-tabel{border-collapse:collapse;margin:.4rem 0 .3rem;font-size:.88rem;min-width:40%}
table.jl-tabel th,table.jl-tabel td{padding:.28rem .6rem;border-bottom:1px solid #e4e7eb}
table.jl-tabel th{background:#f3f5f8;text-align:left !important;font-weight:600;vertical-align:bottom}
table.jl-tabel td{text-align:left !important}
table.jl-tabel td.jl-num,table.jl-tabel th.jl-num{text-align:right !important;font-variant-numeric:tabular-nums;white-space:nowrap}
table.jl-tabel tr.jl-totaal td{font-weight:650;border-top:2px solid #c8ced6}
.jl-bijschrift{font-size:.82rem;color:#555;margin:.1rem 0 1.1rem}
.jl-let-op{background:#fff7e6;border-left:4px solid #E69F00;padding:.45rem .8rem;margin:.5rem 0;font-size:.9rem}
.jl-toelichting{font-size:.88rem;color:#333}
.jl-toelichting dt{font-weight:600;margin-top:.4rem}
.jl-toelichting dd{margin-left:1.2rem}
</style>
"""


def e(s) -> str:
    """HTML-escape a value."""
    return _html.escape(str(s), quote=True)


def toon(*objs) -> None:
    """Display each object (HTML blocks, figures) in order."""
    from .. import plots

    for o in objs:
        if o is None:
            continue
        if hasattr(o, "savefig"):
            plots.toon(o)
        else:
            display(o)


def kop(titel: str, ondertitel: str = "") -> HTML:
    """The report title (h1) with a subtitle line; carries the report CSS."""
    sub = f'<p class="jl-sub">{e(ondertitel)}</p>' if ondertitel else ""
    return HTML(f'{CSS}<div class="jl-kop"><h1>{e(titel)}</h1>{sub}</div>')


def kopje(tekst_: str, niveau: int = 2) -> HTML:
    """A section heading (h2 or h3)."""
    return HTML(f"<h{niveau}>{e(tekst_)}</h{niveau}>")


def tekst(*alineas: str, html: bool = False) -> HTML:
    """Paragraphs of text (escaped unless ``html``)."""
    return HTML("".join(f"<p>{a if html else e(a)}</p>" for a in alineas if a))


def let_op(tekst_: str) -> HTML:
    """A highlighted remark (e.g. "Geen plekfinanciering in deze regio")."""
    return HTML(f'<div class="jl-let-op">{e(tekst_)}</div>')


def bijschrift(tekst_: str) -> HTML:
    """A small caption under a table."""
    return HTML(f'<p class="jl-bijschrift">{e(tekst_)}</p>')


@dataclass
class Tegel:
    """One KPI tile: a label, the formatted value and a short explanation."""

    label: str
    waarde: str
    uitleg: str = ""


def tegels(items: list[Tegel]) -> HTML:
    """A row of KPI tiles."""
    parts = []
    for t in items:
        uitleg = f'<div class="jl-uitleg">{e(t.uitleg)}</div>' if t.uitleg else ""
        parts.append(f'<div class="jl-tegel"><div class="jl-label">{e(t.label)}</div>'
                     f'<div class="jl-waarde">{e(t.waarde)}</div>{uitleg}</div>')
    return HTML(f'<div class="jl-tegels">{"".join(parts)}</div>')


def samenvatting_blok(zinnen: list[str], titel: str = "Samenvatting") -> HTML:
    """The Samenvatting box: a short list of findings (sentences built from data)."""
    items = "".join(f"<li>{e(z)}</li>" for z in zinnen if z)
    if not items:
        items = "<li>Er zijn te weinig gegevens voor bevindingen.</li>"
    return HTML(f'<div class="jl-samenvatting"><h2>{e(titel)}</h2><ul>{items}</ul></div>')


def _is_client_count(col: str) -> bool:
    c = col.lower()
    return ("cliënt" in c or "client" in c) and not any(
        w in c for w in ("per cliënt", "per client", "aandeel", "%", "kosten", "ratio"))


def tabel(df: pd.DataFrame, formaten: dict[str, str] | None = None, *,
          onderdrukt: dict[str, str] | None = None, totaal: bool = False,
          klein_aantal: int = 10, max_rijen: int | None = None,
          rechts: list[str] | None = None) -> HTML:
    """A table with Dutch number formats.

    ``formaten`` maps a column to an eenheid of :func:`fmt.waarde` (``aantal``,
    ``euro``, ``fractie``, ``maanden``) or ``tekst``/``periode``/``datum``;
    unlisted columns are shown as text. ``onderdrukt`` maps a value column to a
    boolean column saying it is suppressed (that column is not shown).
    ``totaal`` styles the last row as a total. Client-count columns (name holds
    "cliënten") have counts 1-9 suppressed here as well. ``rechts``: columns of
    already formatted numbers (text) to right-align.
    """
    formaten = dict(formaten or {})
    for c in rechts or []:
        formaten.setdefault(c, "rechts")
    onderdrukt = dict(onderdrukt or {})
    verborgen = set(onderdrukt.values())
    cols = [c for c in df.columns if c not in verborgen]
    d = df.head(max_rijen) if max_rijen else df
    head = "".join(
        f'<th class="{"jl-num" if formaten.get(c) in ("aantal", "euro", "fractie", "maanden", "rechts") else ""}">'
        f"{e(c)}</th>" for c in cols)
    body = []
    n = len(d)
    arrays = {c: d[c].tolist() for c in d.columns}
    def onderdrukt_(c, i) -> bool:
        v = arrays[c][i]
        sup = bool(arrays[onderdrukt[c]][i]) if c in onderdrukt and not pd.isna(arrays[onderdrukt[c]][i]) else False
        if not sup and formaten.get(c) == "aantal" and _is_client_count(str(c)) and not fmt._leeg(v):
            sup = 1 <= float(v) < klein_aantal
        return sup

    for i in range(n):  # a report table: tens of rows, never all records
        cells = []
        # a share beside a suppressed count gives the count back (share x total): hide it too
        telling_weg = any(formaten.get(c) == "aantal" and onderdrukt_(c, i) for c in cols)
        for c in cols:
            v = arrays[c][i]
            f = formaten.get(c, "tekst")
            sup = onderdrukt_(c, i) or (telling_weg and f == "fractie")
            if f in ("aantal", "euro", "fractie", "maanden"):
                cells.append(f'<td class="jl-num">{e(fmt.waarde(v, f, onderdrukt=sup))}</td>')
            elif f == "rechts":
                cells.append(f'<td class="jl-num">{e(fmt.LEEG if fmt._leeg(v) else v)}</td>')
            elif f == "periode":
                cells.append(f"<td>{e(fmt.periode(v))}</td>")
            elif f == "datum":
                cells.append(f"<td>{e(fmt.datum(v))}</td>")
            elif f == "maand":
                cells.append(f"<td>{e(fmt.maand(v))}</td>")
            else:
                cells.append(f"<td>{e(fmt.LEEG if fmt._leeg(v) else v)}</td>")
        cls = ' class="jl-totaal"' if totaal and i == n - 1 else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    extra = ""
    if max_rijen and len(df) > max_rijen:
        extra = f'<p class="jl-bijschrift">De eerste {max_rijen} van {fmt.getal(len(df))} rijen.</p>'
    return HTML(f'<table class="jl-tabel"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>{extra}')
