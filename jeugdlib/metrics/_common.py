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


# --------------------------------------------------------------------------- integer-coded plumbing
# (added for speed and memory at national scale: group by integer codes instead of
# strings, and roll sums and distinct counts up from gemeente to regio to Nederland
# instead of stacking the rows three times)

#: Caches of metric modules (dicts keyed on a frame's id, holding results derived
#: from that frame): registered with :func:`register_cache` so that
#: :func:`clear_caches` can empty them all, e.g. between the bundles of
#: ``kpi.kpi_table`` (memory). A cleared cache only costs recomputation.
_CACHES: list[dict] = []


def register_cache(cache: dict) -> dict:
    """Register a module-level cache dict for :func:`clear_caches`; returns it."""
    if not any(c is cache for c in _CACHES):
        _CACHES.append(cache)
    return cache


def clear_caches(*, codes: bool = True) -> None:
    """Empty every registered cache (results stay the same; they are recomputed).
    ``codes=False`` keeps the column codes of :func:`column_codes` (small integer
    arrays that modules of later bundles factorise again: ``kpi.kpi_table`` keeps
    them between bundles and drops the larger intermediate results)."""
    for c in _CACHES:
        if codes or c is not _CODE_CACHE:
            c.clear()
    _dode_codes_weg()


_CODE_CACHE: dict = register_cache({})


def _dode_codes_weg() -> None:
    """Drop the cached codes of frames or columns that no longer exist."""
    for k in [k for k, v in _CODE_CACHE.items() if v[0]() is None or v[1]() is None]:
        del _CODE_CACHE[k]


def column_codes(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``df[col]`` (missing -> -1; "" is a value of its own, as in
    ``pd.factorize``) and the uniques (object array) in order of first appearance.

    Cached while the frame and the column's array live (the Cleaned tables are
    factorised once per column however many metrics group by it); a pure
    function of the column, so the cache never changes a result.
    """
    s = df[col]
    arr = s.array
    key = (id(df), col)
    hit = _CODE_CACHE.get(key)
    if hit is not None and hit[0]() is df and hit[1]() is arr and hit[3] == len(s):
        return hit[2].astype(np.int64), hit[4]
    _dode_codes_weg()
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    uniq = np.asarray(pd.Index(uniq).astype(object), dtype=object)
    try:
        import weakref

        # kept in the smallest integer type that holds them (memory); handed out as int64
        small = codes.astype(np.int16 if len(uniq) < 2**15 else np.int32 if len(uniq) < 2**31 else np.int64)
        _CODE_CACHE[key] = (weakref.ref(df), weakref.ref(arr), small, len(s), uniq)
    except TypeError:  # an array type without weak references: no caching
        pass
    return codes, uniq


def client_codes(df: pd.DataFrame) -> np.ndarray:
    """Client codes with the semantics of ``client_id`` in ``nunique``/``factorize``:
    a missing id -> -1, every other id (also "") its own code >= 0.

    Uses ``client_nr`` (Cleaned: a dense code of client_id, -1 for missing or "")
    when present, so no 64-character strings are hashed; rows with -1 whose
    client_id is "" get one extra code (without a client_id column, -1 stays
    missing: ingest never lets an empty client id through).
    """
    if "client_nr" in df.columns:
        c = df["client_nr"].to_numpy(dtype=np.int64, na_value=-1).copy()
        neg = np.flatnonzero(c < 0)
        if len(neg) and "client_id" in df.columns:
            leeg = df["client_id"].iloc[neg].eq("").fillna(False).to_numpy(dtype=bool)
            c[neg[leeg]] = (int(c.max()) + 1) if len(c) else 0
        return c
    return column_codes(df, "client_id")[0]


class LevelGroups:
    """Rows grouped per level (gemeente, regio, Nederland) x an integer ``key``, on codes.

    ``regio`` and ``gemeente``: integer codes per row (-1 = missing) with their
    labels ``regio_labels`` and ``gemeente_labels``; ``key``: int64 per row in
    0..``nkey``-1 (callers pack e.g. period x productgroep into it); rows where
    ``mask`` is false take no part. The gemeente level groups by the pair
    (regio, gemeente), as ``stack_levels`` + ``groupby`` does; a group whose regio
    or gemeente label is missing is left out of that level (``groupby`` drops
    missing keys) but its rows still count for the levels above.

    Per level: ``codes[lvl]`` (group of each selected row), ``size[lvl]``, and the
    labels ``regio[lvl]``, ``gemeente[lvl]``, ``key[lvl]`` of each group. Sums and
    distinct counts are computed once on the gemeente groups and rolled up.
    """

    def __init__(self, regio, regio_labels, gemeente, gemeente_labels, key, nkey: int, mask=None):
        regio = np.asarray(regio, dtype=np.int64)
        gemeente = np.asarray(gemeente, dtype=np.int64)
        key = np.asarray(key, dtype=np.int64)
        self.rows = np.flatnonzero(mask) if mask is not None else None
        if self.rows is not None:
            regio, gemeente, key = regio[self.rows], gemeente[self.rows], key[self.rows]
        self.nkey = max(int(nkey), 1)
        ng = len(gemeente_labels) + 1
        unit = (regio + 1) * ng + (gemeente + 1)
        gk = unit * self.nkey + key
        gcode, guniq = pd.factorize(gk)
        gcode = np.asarray(gcode, dtype=np.int64)
        g_unit = guniq // self.nkey
        g_key = guniq % self.nkey
        g_regio = g_unit // ng - 1
        g_gem = g_unit % ng - 1
        rcode_of_g, runiq = pd.factorize((g_regio + 1) * self.nkey + g_key)
        rcode_of_g = np.asarray(rcode_of_g, dtype=np.int64)
        r_regio = runiq // self.nkey - 1
        r_key = runiq % self.nkey
        ncode_of_r, nuniq = pd.factorize(r_key)
        ncode_of_r = np.asarray(ncode_of_r, dtype=np.int64)
        self.gcode = gcode
        self.up = {"gemeente": None, "regio": rcode_of_g, "nederland": ncode_of_r}
        self.n = {"gemeente": len(guniq), "regio": len(runiq), "nederland": len(nuniq)}
        rl = np.append(np.asarray(regio_labels, dtype=object), None)
        gl = np.append(np.asarray(gemeente_labels, dtype=object), None)
        self.regio = {"gemeente": rl[g_regio], "regio": rl[r_regio],
                      "nederland": np.full(len(nuniq), config.NEDERLAND, dtype=object)}
        self.gemeente = {"gemeente": gl[g_gem], "regio": np.full(len(runiq), "", dtype=object),
                         "nederland": np.full(len(nuniq), "", dtype=object)}
        self.key = {"gemeente": np.asarray(g_key, dtype=np.int64), "regio": np.asarray(r_key, dtype=np.int64),
                    "nederland": np.asarray(nuniq, dtype=np.int64)}
        self.valid = {"gemeente": (g_regio >= 0) & (g_gem >= 0), "regio": r_regio >= 0,
                      "nederland": np.ones(len(nuniq), dtype=bool)}

    def take(self, values):
        """``values`` (aligned to all rows) restricted to the selected rows."""
        v = np.asarray(values)
        return v if self.rows is None else v[self.rows]

    def codes(self, lvl: str) -> np.ndarray:
        """Group of each selected row at level ``lvl``."""
        c = self.gcode
        if lvl in ("regio", "nederland"):
            c = self.up["regio"][c]
        if lvl == "nederland":
            c = self.up["nederland"][c]
        return c

    def _roll(self, g: np.ndarray) -> dict:
        r = np.bincount(self.up["regio"], weights=g, minlength=self.n["regio"])
        n = np.bincount(self.up["nederland"], weights=r, minlength=self.n["nederland"])
        return {"gemeente": g, "regio": r, "nederland": n}

    def sum(self, values=None) -> dict:
        """Per level: the sum of ``values`` (selected rows; float64; exact for integer
        values below 2**53), or the number of rows when ``values`` is None."""
        if values is None:
            g = np.bincount(self.gcode, minlength=self.n["gemeente"]).astype(np.float64)
        else:
            g = np.bincount(self.gcode, weights=np.asarray(values, dtype=np.float64), minlength=self.n["gemeente"])
        return self._roll(g)

    def nunique(self, values) -> dict:
        """Per level: the number of distinct ``values`` (int codes of the selected
        rows; -1 = missing, not counted). A row equal to the row before it (same
        group, same value: e.g. declaration items of one client come in runs) is
        dropped before hashing, which leaves the distinct pairs as they are."""
        v = np.asarray(values, dtype=np.int64)
        ok = v >= 0
        nv = int(v.max()) + 1 if ok.any() else 1
        pairs = self.gcode[ok] * nv + v[ok]
        if len(pairs) > 1:
            pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
        pairs = pd.unique(pairs)
        grp, val = pairs // nv, pairs % nv
        out = {"gemeente": np.bincount(grp, minlength=self.n["gemeente"]).astype(np.float64)}
        for lvl in ("regio", "nederland"):
            grp = self.up[lvl][grp]
            pairs = pd.unique(grp * nv + val)
            grp, val = pairs // nv, pairs % nv
            out[lvl] = np.bincount(grp, minlength=self.n[lvl]).astype(np.float64)
        return out

    def frame(self, levels=("gemeente", "regio", "nederland"), **values) -> pd.DataFrame:
        """Long frame of the groups of ``levels`` (valid ones only): ``regio``,
        ``gemeente`` (object), ``_key`` and one column per ``values[name]`` (a dict
        per level, as returned by :meth:`sum`/:meth:`nunique`)."""
        parts = []
        for lvl in levels:
            ok = self.valid[lvl]
            part = {"regio": self.regio[lvl][ok], "gemeente": self.gemeente[lvl][ok], "_key": self.key[lvl][ok]}
            for name, v in values.items():
                part[name] = np.asarray(v[lvl])[ok]
            parts.append(pd.DataFrame(part))
        return pd.concat(parts, ignore_index=True)


def period_index(dates, per: pd.DataFrame) -> np.ndarray:
    """Position in ``per`` (a :func:`periods` table) of the period holding each date;
    -1 for no period or no date (vectorised searchsorted, no date formatting)."""
    d = np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"))
    begins = per["begin"].to_numpy(dtype="datetime64[ns]")
    ends = per["eind"].to_numpy(dtype="datetime64[ns]")
    if len(begins) == 0:
        return np.full(len(d), -1, dtype=np.int64)
    i = np.searchsorted(begins, d, side="right") - 1
    ok = (i >= 0) & ~np.isnat(d)
    ok[ok] &= d[ok] <= ends[i[ok]]
    return np.where(ok, i, -1).astype(np.int64)
