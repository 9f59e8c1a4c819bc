"""Shared plumbing for metric functions: periods, grouping levels, interval chains.

Conventions every metric module follows:

* Group levels (metrics.md section 0, "Groups"): every KPI is computed per regio,
  per gemeente within its regio, and for ``Nederland`` (all regions). Rather than
  computing three times, :func:`stack_levels` repeats the input rows once per
  level with columns ``regio`` and ``gemeente`` ("" for a regio or Nederland
  total); a metric then simply groups by ``["regio", "gemeente", "periode", ...]``.
  Distinct counts stay correct because each level sees all its rows.
* Periods: :func:`period_label` names the period a date falls in; :func:`periods`
  lists the periods of the analysis window with their first and last day and the
  ``voorlopig`` flag (last day on or after the peildatum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config, schema

LEVEL_COLS = ["regio", "gemeente"]


def period_label(dates: pd.Series, per: str) -> pd.Series:
    """Label of the period holding each date: '2023', '2023-Q2' or '2023-05'."""
    d = pd.Series(dates)
    if per == "jaar":
        out = d.dt.year.astype("Int64").astype("string")
    elif per == "kwartaal":
        out = d.dt.year.astype("Int64").astype("string") + "-Q" + d.dt.quarter.astype("Int64").astype("string")
    elif per == "maand":
        out = d.dt.strftime("%Y-%m").astype("string")
    else:
        raise ValueError(f"unknown per {per!r}")
    return out.astype(schema.S)


def periods(start, peildatum, per: str) -> pd.DataFrame:
    """Periods overlapping [start, peildatum): columns periode, begin, eind, voorlopig.

    ``eind`` is the period's last day; ``voorlopig`` is true when that day is on or
    after the peildatum (metrics.md section 0).
    """
    start = pd.Timestamp(start)
    peil = pd.Timestamp(peildatum)
    freq = {"jaar": "YS", "kwartaal": "QS", "maand": "MS"}[per]
    first = start.to_period({"jaar": "Y", "kwartaal": "Q", "maand": "M"}[per]).start_time
    begins = pd.date_range(first, peil - pd.Timedelta(days=1), freq=freq)
    if len(begins) == 0:
        begins = pd.DatetimeIndex([first])
    offs = {"jaar": pd.offsets.YearEnd(0), "kwartaal": pd.offsets.QuarterEnd(0), "maand": pd.offsets.MonthEnd(0)}[per]
    ends = begins + offs
    out = pd.DataFrame({
        "periode": period_label(pd.Series(begins), per),
        "begin": begins.astype(schema.D),
        "eind": ends.astype(schema.D),
    })
    out["voorlopig"] = out["eind"] >= peil
    return out


def stack_levels(df: pd.DataFrame, regio_col: str = "regio", gemeente_col: str = "gemeentecode",
                 levels: tuple[str, ...] = ("gemeente", "regio", "nederland")) -> pd.DataFrame:
    """Repeat ``df`` once per group level, adding columns ``regio`` and ``gemeente``.

    * ``gemeente`` level: regio = the row's regio, gemeente = its gemeentecode;
    * ``regio`` level: regio = the row's regio, gemeente = "";
    * ``nederland`` level: regio = "Nederland", gemeente = "".

    The input's own ``regio_col``/``gemeente_col`` are dropped from the result.
    """
    parts = []
    base = df.drop(columns=[c for c in (regio_col, gemeente_col) if c in df.columns])
    n = len(df)
    for lvl in levels:
        part = base.copy(deep=False)
        if lvl == "gemeente":
            part["regio"] = df[regio_col].to_numpy()
            part["gemeente"] = df[gemeente_col].to_numpy()
        elif lvl == "regio":
            part["regio"] = df[regio_col].to_numpy()
            part["gemeente"] = np.full(n, "", dtype=object)
        else:
            part["regio"] = np.full(n, config.NEDERLAND, dtype=object)
            part["gemeente"] = np.full(n, "", dtype=object)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["regio"] = out["regio"].astype(schema.S)
    out["gemeente"] = out["gemeente"].astype(schema.S)
    return out


def chain_ids(df: pd.DataFrame, by: list[str], start: str, end: str, gap_days: int) -> pd.Series:
    """Join intervals into chains (zorgpad / episode, metrics.md section 5).

    Within each group of ``by``, intervals sorted by ``start`` are joined while the
    next starts at most ``gap_days`` after the latest end so far. ``end`` must be
    filled (callers replace an open end by the day before the peildatum). Returns a
    chain number per row (aligned to ``df.index``), unique over the whole frame.
    Vectorised: one sort and a grouped cumulative max, no loop per group.
    """
    if len(df) == 0:
        return pd.Series([], dtype="int64", index=df.index)
    order = df.sort_values(by + [start, end], kind="mergesort")
    grp_change = np.zeros(len(order), dtype=bool)
    grp_change[0] = True
    for c in by:
        v = order[c].to_numpy()
        grp_change[1:] |= v[1:] != v[:-1]
    gkey = np.cumsum(grp_change)
    ends = order[end].to_numpy(dtype="datetime64[ns]")
    run_max = pd.Series(ends).groupby(gkey).cummax().to_numpy()
    prev_max = np.empty_like(run_max)
    prev_max[1:] = run_max[:-1]
    prev_max[0] = run_max[0]
    starts = order[start].to_numpy(dtype="datetime64[ns]")
    gap = np.timedelta64(gap_days, "D")
    new = grp_change | (starts > prev_max + gap)
    ids = np.cumsum(new) - 1
    return pd.Series(ids, index=order.index).reindex(df.index)


# --------------------------------------------------------------------------- additive helpers
# (added for metrics/volume, kosten, aandelen; usable by every metric module)

def expand_periods(df: pd.DataFrame, begin_col: str, end_col: str, per: pd.DataFrame) -> pd.DataFrame:
    """One row per (row of ``df``, period of ``per`` it overlaps), with column ``periode``.

    A row overlaps a period when ``begin_col <= period end`` and ``end_col >=
    period begin`` (both inclusive; ``end_col`` must be filled). ``per`` is the
    table of :func:`periods` (contiguous, sorted). Vectorised with searchsorted
    and ``np.repeat``; no loop per row.
    """
    if len(df) == 0 or len(per) == 0:
        out = df.iloc[0:0].copy()
        out["periode"] = pd.Series([], dtype=schema.S)
        return out
    begins = per["begin"].to_numpy(dtype="datetime64[ns]")
    ends = per["eind"].to_numpy(dtype="datetime64[ns]")
    b = df[begin_col].to_numpy(dtype="datetime64[ns]")
    e = df[end_col].to_numpy(dtype="datetime64[ns]")
    # first period whose end >= begin; last period whose begin <= end
    first = np.searchsorted(ends, b, side="left")
    last = np.searchsorted(begins, e, side="right") - 1
    n = np.where(np.isnat(b) | np.isnat(e), 0, np.maximum(last - first + 1, 0))
    rows = np.repeat(np.arange(len(df)), n)
    offs = np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n)
    pidx = np.repeat(first, n) + offs
    out = df.iloc[rows].reset_index(drop=True)
    out["periode"] = per["periode"].to_numpy()[pidx]
    out["periode"] = out["periode"].astype(schema.S)
    return out


def _stack3(g: pd.DataFrame, r: pd.DataFrame, n: pd.DataFrame, regio_col: str, gemeente_col: str) -> pd.DataFrame:
    g = g.rename(columns={regio_col: "regio", gemeente_col: "gemeente"})
    r = r.rename(columns={regio_col: "regio"})
    r["gemeente"] = ""
    n["regio"] = config.NEDERLAND
    n["gemeente"] = ""
    out = pd.concat([g, r, n], ignore_index=True)
    out["regio"] = out["regio"].astype(schema.S)
    out["gemeente"] = out["gemeente"].astype(schema.S)
    return out


def sum_levels(df: pd.DataFrame, by: list[str], values: list[str], regio_col: str = "regio",
               gemeente_col: str = "gemeentecode") -> pd.DataFrame:
    """Sum ``values`` per (gemeente | regio | Nederland) x ``by``.

    Sums are additive, so the gemeente totals are rolled up instead of repeating
    the input (cheaper than :func:`stack_levels` on large tables). Returns columns
    ``regio``, ``gemeente`` ("" for regio and Nederland), ``by``, ``values``.
    """
    kw = dict(sort=False, dropna=False, observed=True)
    g = df.groupby([regio_col, gemeente_col, *by], **kw)[values].sum().reset_index()
    r = g.groupby([regio_col, *by], **kw)[values].sum().reset_index()
    if by:
        n = g.groupby(by, **kw)[values].sum().reset_index()
    else:
        n = g[values].sum().to_frame().T.reset_index(drop=True)
    return _stack3(g, r, n, regio_col, gemeente_col)


def nunique_levels(df: pd.DataFrame, by: list[str], col: str, name: str = "n", regio_col: str = "regio",
                   gemeente_col: str = "gemeentecode") -> pd.DataFrame:
    """Number of distinct ``col`` per (gemeente | regio | Nederland) x ``by``.

    Deduplicates step by step (gemeente, then regio, then all), so a client in
    two gemeenten of one regio counts once for the regio. Returns columns
    ``regio``, ``gemeente``, ``by``, ``name``.
    """
    codes = pd.factorize(df[col])[0]
    u = df[[regio_col, gemeente_col, *by]].copy()
    u["_v"] = codes
    u = u[codes >= 0].drop_duplicates()
    kw = dict(sort=False, dropna=False, observed=True)
    g = u.groupby([regio_col, gemeente_col, *by], **kw).size().rename(name).reset_index()
    ur = u.drop_duplicates([regio_col, *by, "_v"])
    r = ur.groupby([regio_col, *by], **kw).size().rename(name).reset_index()
    un = ur.drop_duplicates([*by, "_v"])
    if by:
        n = un.groupby(by, **kw).size().rename(name).reset_index()
    else:
        n = pd.DataFrame({name: [len(un)]})
    return _stack3(g, r, n, regio_col, gemeente_col)
