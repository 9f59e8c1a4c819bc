"""Shares of cost and aanbieder counts (metrics.md section 2).

Each share is cost in the group / ``kosten`` in the period (net declared
amounts, by periode_begin, see :mod:`jeugdlib.metrics.kosten`). ``n_clienten``
of a share = the distinct clients with a positive net declared amount in its
denominator (a share over fewer than 10 clients is suppressed, data-contract
3.1). Output columns as in :mod:`jeugdlib.metrics.volume`. Computed on the
integer codes of :class:`jeugdlib.metrics.kosten.Werkset`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _common
from .kosten import NGA, dim_value, werkset
from .volume import as_kpi, finish

#: Threshold of ``aanbieders_klein``: positive kosten below EUR 20,000 in a year.
KLEIN_CENT = 20_000 * 100


def _share_frame(ws, perioden, teller, noemer, n, by_labels=None, name=None) -> pd.DataFrame:
    """Rows with noemer > 0: waarde = teller / noemer, n_clienten = n (level arrays)."""
    dims = None if by_labels is None else dim_value(by_labels, name).to_numpy()  # per value, not per row
    f = ws.frame(perioden, {"_t": teller, "_d": noemer, "n_clienten": n}, by_labels=dims)
    f = f[f["_d"] > 0].copy()
    f["waarde"] = f["_t"] / f["_d"]
    if by_labels is not None:
        f["dimensie"] = f["_by"]
    return finish(f)


def _aandeel_groepen(ws, perioden, col: str, values: list[str], name: str) -> pd.DataFrame:
    """Share of the period's kosten per group: the values of ``col`` mapped onto
    ``values`` (:func:`_groep_index`)."""
    s, _ = ws.som(perioden, col, tellen=False)
    groep = _groep_index(ws, col, values)
    s = np.stack([s[..., groep == i].sum(axis=-1) for i in range(len(values))], axis=-1)
    tot, cl = ws.totaal(perioden)
    noemer = tuple(np.repeat(t, len(values), axis=-1) for t in tot)
    n = tuple(np.repeat(c, len(values), axis=-1) for c in cl)
    return _share_frame(ws, perioden, ws.rollup(s), noemer, n, by_labels=values, name=name)


def _groep_index(ws, col: str, values: list[str]) -> np.ndarray:
    """Index into ``values`` of each code of ``col`` (:meth:`Werkset.codes`): its
    stripped, lower-cased label; anything else (also missing) -> the last value."""
    labels = ws.labels(col)
    lab = pd.Series(labels, dtype=object).str.strip().str.lower()
    idx = {v: i for i, v in enumerate(values)}
    return np.array([idx.get(v, len(values) - 1) if isinstance(v, str) else len(values) - 1 for v in lab],
                    dtype=np.int64)  # one per distinct label


def aandeel_nga(declaraties: pd.DataFrame, perioden: pd.DataFrame, per_segment: bool = False) -> pd.DataFrame:
    """``aandeel_nga`` (metrics.md section 2): kosten of lines of aanbieders not
    contracted on periode_begin (niet-gecontracteerd aanbod; an AGB missing from
    aanbieders.csv is NGA) / ``kosten`` in the period.

    ``per_segment``: one row per ``segment=...``, the share *within* the segment
    (NGA kosten in the segment / kosten of the segment; ``n_clienten``: clients
    with positive kosten in the segment).
    """
    ws = werkset(declaraties)
    s, _ = ws.som(perioden, "segment", NGA, tellen=False)  # (G, P, segment, gecontracteerd | nga)
    if per_segment:
        labels = ws.labels("segment")
        n = ws.clienten_pos(perioden, "segment")
        return _share_frame(ws, perioden, ws.rollup(s[..., 1]), ws.rollup(s.sum(axis=-1)), n, by_labels=labels,
                            name="segment")
    tot, cl = ws.totaal(perioden)
    return _share_frame(ws, perioden, ws.rollup(s[..., 1].sum(axis=-1, keepdims=True)), tot, cl)


def aandeel_variant(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_variant`` (metrics.md section 2): share of kosten per product variant:
    ``variant=maatwerk``, ``variant=meerwerk``, ``variant=overig`` (no variant, or an
    unknown product)."""
    ws = werkset(declaraties)
    values = ["maatwerk", "meerwerk", "overig"]
    return _aandeel_groepen(ws, perioden, "variant", values, "variant")


def aandeel_aanbiedertype(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_aanbiedertype`` (metrics.md section 2): share of kosten per aanbieder
    type, ``type=micro`` and ``type=regulier`` (an unknown AGB counts as regulier)."""
    ws = werkset(declaraties)
    values = ["micro", "regulier"]
    return _aandeel_groepen(ws, perioden, "aanbieder_type", values, "type")


def aandeel_top10(declaraties: pd.DataFrame, perioden: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """``aandeel_top10`` (metrics.md section 2): kosten of the ``n`` (10) aanbieders
    with the highest kosten in the period (within the level) / ``kosten``."""
    ws = werkset(declaraties)
    sums, counts = ws.per_agb(perioden)
    tops = tuple(_top_som(s, c, n) for s, c in zip(sums, counts))
    tot, cl = ws.totaal(perioden)
    return _share_frame(ws, perioden, tops, tot, cl)


def _top_som(s: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """Sum of the ``n`` largest values of ``s`` along its last axis among the entries
    with ``c > 0`` (all of them when fewer; 0 when none): shape ``s.shape[:-1] + (1,)``.

    On the entries with ``c > 0`` only (sparse: an aanbieder declares in few
    gemeenten), sorted per group by value; float sums of integer cents, exact in
    any order."""
    A = s.shape[-1]
    k = min(n, A)
    idx = np.flatnonzero(c.reshape(-1) > 0)
    grp, v = idx // max(A, 1), s.reshape(-1)[idx]
    order = np.lexsort((-v, grp))
    grp, v = grp[order], v[order]
    rank = np.arange(len(grp)) - np.searchsorted(grp, grp, side="left")
    keep = rank < k
    out = np.bincount(grp[keep], weights=v[keep], minlength=int(np.prod(s.shape[:-1])))
    return out.astype(np.float64, copy=False).reshape(s.shape[:-1] + (1,))


def aanbieders_klein(declaraties: pd.DataFrame, jaren: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_klein`` (metrics.md section 2): aanbieders with positive kosten
    below EUR 20,000 in a year (``jaren``: a yearly periods table; only per year).
    Not client-based."""
    ws = werkset(declaraties)
    sums, _ = ws.per_agb(jaren)
    val = tuple(((s > 0) & (s < KLEIN_CENT)).sum(axis=-1, keepdims=True).astype(float) for s in sums)
    return finish(ws.frame(jaren, {"waarde": val}))


def aanbieders_een_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_een_client`` (metrics.md section 2): aanbieders that served exactly
    one client in the period (one client with a positive net declared amount at
    that aanbieder, within the level). Not client-based."""
    ws = werkset(declaraties)
    n = ws.clienten_pos(perioden, "agb")
    val = tuple((x == 1).sum(axis=-1, keepdims=True).astype(float) for x in n)
    return finish(ws.frame(perioden, {"waarde": val}))


# --------------------------------------------------------------------------- KPI rows

def kpis(cleaned, params) -> pd.DataFrame:
    """KPI rows of metrics.md section 2: aandeel_nga (total and per segment),
    aandeel_variant, aandeel_aanbiedertype, aandeel_top10, aanbieders_klein (per
    year), aanbieders_een_client."""
    dec = cleaned.declaraties
    per = _common.periods(params.start, params.peildatum, params.per)
    jaren = _common.periods(params.start, params.peildatum, "jaar")
    return pd.concat([
        as_kpi(aandeel_nga(dec, per), "aandeel_nga", "fractie"),
        as_kpi(aandeel_nga(dec, per, per_segment=True), "aandeel_nga", "fractie"),
        as_kpi(aandeel_variant(dec, per), "aandeel_variant", "fractie"),
        as_kpi(aandeel_aanbiedertype(dec, per), "aandeel_aanbiedertype", "fractie"),
        as_kpi(aandeel_top10(dec, per), "aandeel_top10", "fractie"),
        as_kpi(aanbieders_klein(dec, jaren), "aanbieders_klein", "aantal"),
        as_kpi(aanbieders_een_client(dec, per), "aanbieders_een_client", "aantal"),
    ], ignore_index=True)
