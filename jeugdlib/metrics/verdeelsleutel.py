"""Kostenverdeling tussen gemeenten: the verdeelsleutel (metrics.md section 9).

A region splits shared running costs over its gemeenten by a key of weighted
parts. Zuid-Limburg's key (the default, :data:`ZUID_LIMBURG`) has four equal
parts:

* ``gemeente``: per gemeente (1/N);
* ``jeugdigen``: number of jeugdigen (bevolking.csv);
* ``toewijzingen``: toewijzingen that overlap year t-1, withdrawn ones included;
* ``declaratieregels``: declaration lines received in year t-1.

Share of gemeente g = sum over parts of weight x (g's count / total count);
amount = share x total cost, rounded to whole euros by largest remainder so the
amounts add up exactly to the total.

:func:`verdeel` is the pure key (any parts and weights, counts given);
:func:`tellingen` derives the four standard counts from the tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import config, schema
from ..errors import JeugdlibError
from . import _common
from .verzilvering import _codes, _finish

#: Zuid-Limburg: four equal parts.
ZUID_LIMBURG: dict[str, float] = {"gemeente": 0.25, "jeugdigen": 0.25, "toewijzingen": 0.25,
                                  "declaratieregels": 0.25}


def largest_remainder(exact: np.ndarray, totaal: int) -> np.ndarray:
    """Whole numbers close to ``exact`` that add up to ``totaal`` (largest-remainder method).

    Each value is rounded down; the units still missing go one each to the values
    with the largest fractional parts (ties: first in order). ``exact`` should sum
    to ``totaal``; values are first rounded to 6 decimals so that float noise
    (99.99999999 for 100) never decides who gets a unit.
    """
    exact = np.round(np.asarray(exact, dtype="float64"), 6)
    basis = np.floor(exact)
    rest = int(totaal - basis.sum())
    frac = exact - basis
    order = np.argsort(-frac, kind="stable")
    out = basis.astype(np.int64)
    if rest > 0:
        out[order[:rest]] += 1
    elif rest < 0:  # only when exact does not sum to totaal: take from the smallest fractions
        out[order[::-1][: -rest]] -= 1
    return out


def verdeel(tellingen: pd.DataFrame, totaal_euro, gewichten: Mapping[str, float] = ZUID_LIMBURG) -> pd.DataFrame:
    """Split ``totaal_euro`` over gemeenten by a weighted key (metrics.md section 9).

    ``tellingen``: one row per gemeente with ``gemeentecode`` and one count column
    per part named in ``gewichten`` (the part ``gemeente`` may be left out: it
    counts 1 per row). ``gewichten``: part -> weight; weights must be >= 0 and sum
    to 1. ``totaal_euro`` is rounded to whole euros first.

    Returns per gemeente (input order): ``gemeentecode``, ``aandeel_<part>`` (the
    gemeente's count / the part's total), ``aandeel`` (weighted sum) and
    ``bedrag`` (whole euros, largest remainder; the amounts sum exactly to the
    total). Raises :class:`JeugdlibError` for bad weights, a missing or negative
    count, or a part whose counts sum to 0.
    """
    w = {k: float(v) for k, v in gewichten.items()}
    if not w:
        raise JeugdlibError("verdeelsleutel: geen onderdelen opgegeven")
    if any(v < 0 for v in w.values()) or abs(sum(w.values()) - 1.0) > 1e-9:
        raise JeugdlibError(f"verdeelsleutel: gewichten moeten >= 0 zijn en samen 1 zijn, niet {w}")
    if len(tellingen) == 0:
        raise JeugdlibError("verdeelsleutel: geen gemeenten om over te verdelen")
    out = pd.DataFrame({"gemeentecode": tellingen["gemeentecode"].astype(schema.S).to_numpy()})
    aandeel = np.zeros(len(tellingen))
    for deel, gewicht in w.items():
        if deel in tellingen.columns:
            c = pd.to_numeric(tellingen[deel], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        elif deel == "gemeente":
            c = np.ones(len(tellingen))
        else:
            raise JeugdlibError(f"verdeelsleutel: telling voor onderdeel {deel!r} ontbreekt")
        if np.isnan(c).any() or (c < 0).any():
            g = out["gemeentecode"][np.isnan(c) | (c < 0)].iloc[0]
            raise JeugdlibError(f"verdeelsleutel: telling {deel!r} ontbreekt of is negatief voor gemeente {g}")
        if c.sum() <= 0:
            raise JeugdlibError(f"verdeelsleutel: onderdeel {deel!r} telt in totaal 0")
        out[f"aandeel_{deel}"] = c / c.sum()
        aandeel += gewicht * out[f"aandeel_{deel}"].to_numpy()
    out["aandeel"] = aandeel
    totaal = int(round(float(totaal_euro)))
    out["bedrag"] = largest_remainder(aandeel * totaal, totaal)
    return out


def tellingen(gemeenten: pd.DataFrame, jaar: int, *, toewijzingen: pd.DataFrame | None = None,
              declaraties: pd.DataFrame | None = None, bevolking: pd.DataFrame | None = None) -> pd.DataFrame:
    """The standard counts per gemeente for the key of year ``jaar`` (metrics.md section 9).

    * ``gemeente``: 1;
    * ``jeugdigen``: bevolking of year t-1 (the latest year up to t-1 given; a
      gemeente without a figure counts 0; column absent when bevolking is empty);
    * ``toewijzingen``: distinct toewijzing_nr with a version overlapping year t-1
      (span per toewijzing_nr: earliest ingangsdatum to latest einddatum over all
      rows, open = open), so withdrawn ones count when their rows are passed in;
    * ``declaratieregels``: rows of ``declaraties`` with periode_begin in year
      t-1 (pass the canonical table, one row per Prestatie, for "lines
      received": it has no receipt date, so the line's period stands in for it).

    ``gemeenten``: the gemeenten to split over (column ``gemeentecode``). Counts
    are 0 for gemeenten without records.
    """
    out = tellingen_jaren(gemeenten, [jaar], toewijzingen=toewijzingen, declaraties=declaraties,
                          bevolking=bevolking)
    return out.drop(columns=["jaar"])


def tellingen_jaren(gemeenten: pd.DataFrame, jaren, *, toewijzingen: pd.DataFrame | None = None,
                    declaraties: pd.DataFrame | None = None, bevolking: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`tellingen` for several years in one pass over the tables: long, with column ``jaar``."""
    return _tellingen_jaren(gemeenten, jaren, None if toewijzingen is None else [toewijzingen], declaraties,
                            bevolking)


def _span_delen(delen: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Span per (toewijzing_nr, gemeentecode) over the rows of all frames in ``delen``
    (as if concatenated): arrays ``g`` (gemeente code into the returned labels),
    ``ing`` (earliest ingangsdatum), ``eind`` (latest einddatum, open = far future)
    and the gemeente labels. Rows without gemeentecode are left out; missing
    numbers form one group per gemeente (as ``groupby`` on their codes).

    The numbers are coded on the first frame's cached column codes
    (:func:`_common.column_codes`); the other frames' (few) distinct numbers are
    looked up among its uniques, new ones numbered after them."""
    nr_codes, g_codes, gu = [], [], np.array([], dtype=object)
    for i, t in enumerate(delen):
        if i == 0:
            nc, nr_u0 = _common.column_codes(t, "toewijzing_nr")
            n_nr = len(nr_u0)
        else:
            eigen_c, eigen_u = _codes(t["toewijzing_nr"].astype(schema.S))
            # each of these numbers -> its code in delen[0] (its place among the uniques)
            naar = np.asarray(pd.Index(nr_u0).get_indexer(eigen_u), dtype=np.int64)
            nieuw = naar < 0
            naar[nieuw] = n_nr + np.arange(int(nieuw.sum()))
            n_nr += int(nieuw.sum())
            nc = np.where(eigen_c >= 0, np.append(naar, -1)[eigen_c], -1)
        gc, g_u = _common.column_codes(t, "gemeentecode") if i == 0 else _codes(t["gemeentecode"])
        if i > 0 and len(g_u):
            pos = pd.Index(gu).get_indexer(g_u)
            nieuw = pos < 0
            pos[nieuw] = len(gu) + np.arange(int(nieuw.sum()))
            gu = np.concatenate([gu, np.asarray(g_u, dtype=object)[nieuw]])
            gc = np.where(gc >= 0, np.append(pos, -1)[gc], -1)
        elif i == 0:
            gu = np.asarray(g_u, dtype=object)
        nr_codes.append(np.asarray(nc, dtype=np.int64))
        g_codes.append(np.asarray(gc, dtype=np.int64))
    nrc, gc = np.concatenate(nr_codes), np.concatenate(g_codes)
    ing = np.concatenate([t["ingangsdatum"].to_numpy(dtype="datetime64[ns]") for t in delen])
    # open end -> far future, so that the max over versions stays open
    ver = np.datetime64(pd.Timestamp.max.normalize().to_datetime64(), "ns")
    eind = np.concatenate([t["einddatum"].to_numpy(dtype="datetime64[ns]") for t in delen])
    eind = np.where(np.isnat(eind), ver, eind)
    ok = gc >= 0
    key = nrc[ok] * (len(gu) + 1) + gc[ok]
    grp, _ = pd.factorize(key)
    grp = np.asarray(grp, dtype=np.int64)
    ng = int(grp.max()) + 1 if len(grp) else 0
    g = np.zeros(ng, dtype=np.int64)
    g[grp] = gc[ok]  # one gemeente per group (it is part of the key)
    # min / max skipping NaT (NaT is the smallest int64): NaT -> the other extreme
    iv = ing[ok].view(np.int64)
    nat = np.iinfo(np.int64).min
    i_min = np.full(ng, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(i_min, grp, np.where(iv == nat, np.iinfo(np.int64).max, iv))
    i_min[i_min == np.iinfo(np.int64).max] = nat
    e_max = np.full(ng, nat, dtype=np.int64)
    np.maximum.at(e_max, grp, eind[ok].view(np.int64))
    return g, i_min.view("datetime64[ns]"), e_max.view("datetime64[ns]"), gu


def _tellingen_jaren(gemeenten: pd.DataFrame, jaren, toewijzingen: list[pd.DataFrame] | None,
                     declaraties: pd.DataFrame | None, bevolking: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`tellingen_jaren` with the toewijzingen given as a list of frames (their
    rows together; :func:`kpis` adds the withdrawn ones without copying)."""
    codes = gemeenten["gemeentecode"].astype(schema.S).drop_duplicates().reset_index(drop=True)
    idx = pd.Index(codes.astype(object))
    jaren = [int(j) for j in jaren]

    span = None
    if toewijzingen is not None:
        # Span per (toewijzing_nr, gemeente) over all rows, on integer codes.
        span = _span_delen(toewijzingen)
    if declaraties is not None and jaren:
        dg_c, dg_u = _common.column_codes(declaraties, "gemeentecode")
        # lines per (year of periode_begin, gemeente) for the years t-1, one pass
        j0 = min(jaren) - 1
        grenzen = np.array([np.datetime64(f"{j}-01-01", "ns") for j in range(j0, max(jaren) + 1)])
        jr = np.searchsorted(grenzen, declaraties["periode_begin"].to_numpy(dtype="datetime64[ns]"), side="right") - 1
        ok = (jr >= 0) & (jr < len(grenzen) - 1) & (dg_c >= 0)  # NaT sorts last: no year
        per_jaar = np.bincount(jr[ok] * len(dg_u) + dg_c[ok],
                               minlength=(len(grenzen) - 1) * len(dg_u)).reshape(len(grenzen) - 1, len(dg_u))

    parts = []
    for jaar in jaren:
        t1_begin = np.datetime64(pd.Timestamp(year=jaar - 1, month=1, day=1).to_datetime64(), "ns")
        t1_eind = np.datetime64(pd.Timestamp(year=jaar - 1, month=12, day=31).to_datetime64(), "ns")
        out = pd.DataFrame({"gemeentecode": codes, "jaar": jaar, "gemeente": 1})
        if bevolking is not None and len(bevolking):
            b = bevolking.assign(jaar=pd.to_numeric(bevolking["jaar"]).astype("int64"))
            b = b[b["jaar"] <= jaar - 1]
            if len(b):
                b = b.sort_values("jaar").drop_duplicates("gemeentecode", keep="last")
                sb = pd.Series(pd.to_numeric(b["jeugdigen"]).to_numpy(dtype="float64"),
                               index=b["gemeentecode"].astype(object))
                out["jeugdigen"] = sb.reindex(idx).fillna(0).to_numpy()
        if span is not None:
            g, ing, eind, tg_u = span
            hit = (ing <= t1_eind) & (eind >= t1_begin)
            n = np.bincount(g[hit], minlength=len(tg_u))
            out["toewijzingen"] = pd.Series(n, index=tg_u).reindex(idx).fillna(0).to_numpy(dtype="float64")
        if declaraties is not None:
            n = per_jaar[jaar - 1 - j0]
            out["declaratieregels"] = pd.Series(n, index=dg_u).reindex(idx).fillna(0).to_numpy(dtype="float64")
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def kpis(cleaned, params: config.Params, gewichten: Mapping[str, float] = ZUID_LIMBURG) -> pd.DataFrame:
    """KPI rows ``verdeelsleutel`` (fractie): each gemeente's share of its regio's costs (metrics.md 9).

    Per regio (its gemeenten in ``cleaned.gemeenten``) and each year t of the
    window, with the default key (``gewichten``); only with ``per = jaar``. Rows:
    the total share (``dimensie`` empty) and each part's share (``deel=<part>``).
    Toewijzingen include the withdrawn ones (``cleaned.toewijzingen_ingetrokken``)
    when present; declaration lines are the canonical lines of
    ``cleaned.dataset`` when present, else the netted items. A part without data
    (e.g. no bevolking.csv) is left out and the other weights are scaled up to sum
    to 1. Not client-based: ``n_clienten`` is NaN. No amounts: the total to split is
    not in the data (call :func:`verdeel` with it).
    """
    if params.per != "jaar":
        return _finish(pd.DataFrame())
    gem = cleaned.gemeenten
    if gem is None or len(gem) == 0:
        return _finish(pd.DataFrame())
    toew = [cleaned.toewijzingen]  # the rows of both frames count together (not copied)
    extra = getattr(cleaned, "toewijzingen_ingetrokken", None)
    if extra is not None and len(extra):
        toew.append(extra)
    ds = getattr(cleaned, "dataset", None)
    decl = ds.declaraties if ds is not None and len(getattr(ds, "declaraties", [])) else cleaned.declaraties
    bev = getattr(cleaned, "bevolking", None)

    per = _common.periods(params.start, params.peildatum, params.per)
    rows = []
    regio_van = dict(zip(gem["gemeentecode"].astype(str), gem["regio_naam"].astype(str)))
    alle = _tellingen_jaren(gem, [int(p) for p in per["periode"]], toew, decl, bev)
    alle["_regio"] = alle["gemeentecode"].astype(str).map(regio_van)
    alle = alle[alle["_regio"].notna()].reset_index(drop=True)
    if len(alle) == 0:
        return _finish(pd.DataFrame())
    # The key of :func:`verdeel`, vectorised over all (year, regio) groups at once.
    grp = alle.groupby(["jaar", "_regio"], sort=False)
    delen = [k for k in gewichten if k == "gemeente" or k in alle.columns]
    totaal_aandeel = np.zeros(len(alle))
    gewicht_som = np.zeros(len(alle))
    aandelen = {}
    for k in delen:
        som = grp[k].transform("sum").to_numpy(dtype="float64")
        heeft = som > 0  # a part without data in this group is left out
        with np.errstate(divide="ignore", invalid="ignore"):
            aandelen[k] = np.where(heeft, alle[k].to_numpy(dtype="float64") / som, np.nan)
        w = float(gewichten[k]) * heeft
        totaal_aandeel += w * np.nan_to_num(aandelen[k])
        gewicht_som += w
    with np.errstate(divide="ignore", invalid="ignore"):
        totaal_aandeel = totaal_aandeel / gewicht_som
    basis = {"kpi": "verdeelsleutel", "regio": alle["_regio"].to_numpy(),
             "gemeente": alle["gemeentecode"].to_numpy(), "periode": alle["jaar"].astype(str).to_numpy(),
             "eenheid": "fractie", schema.KPI_N: np.nan}
    rows.append(pd.DataFrame({**basis, "dimensie": "", "waarde": totaal_aandeel}))
    for k in delen:
        rows.append(pd.DataFrame({**basis, "dimensie": f"deel={k}", "waarde": aandelen[k]}))
    rows = [r[r["waarde"].notna()] for r in rows]
    if not rows:
        return _finish(pd.DataFrame())
    return _finish(pd.concat(rows, ignore_index=True))
