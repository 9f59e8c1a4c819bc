"""Verlenging and recidief (metrics.md section 4).

Per client and productgroep, for each toewijzing A whose ``einddatum`` lies in the
period:

* A is **verlengd** when another toewijzing B of the same client and productgroep
  (any aanbieder) has ``B.ingangsdatum > A.ingangsdatum``,
  ``B.ingangsdatum <= A.einddatum + aansluit_dagen`` and ends later than A (an open
  end counts as later). Counted only when ``A.einddatum + aansluit_dagen`` is
  before the peildatum.
* A is **recidief** when it is not verlengd and such a B starts in
  (``A.einddatum + aansluit_dagen``, ``A.einddatum + recidief_dagen``]. Counted
  only when ``A.einddatum + recidief_dagen`` is before the peildatum. The
  denominator is every toewijzing counted for recidief (verlengde included: they
  are counted, and are not recidief).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from .verzilvering import _codes, _finish, _kpi_rows, eindigend_in_periode
from .zorgduur import _chain_codes

_OPEN = np.iinfo(np.int64).max  # an open einddatum: later than any date


def verlenging_status(toewijzingen: pd.DataFrame, params: config.Params) -> pd.DataFrame:
    """Per toewijzing A: verlengd / recidief and whether it is counted (metrics.md section 4).

    ``toewijzingen``: ``Cleaned.toewijzingen`` (client_id, productgroep,
    ingangsdatum, einddatum; every toewijzing is a candidate B). Returns a frame
    aligned to the input index with boolean columns ``telt_verlenging``,
    ``verlengd``, ``telt_recidief``, ``recidief``. Toewijzingen without an
    einddatum (open) have not ended and are counted for neither.

    Vectorised: one self-join on (client, productgroep) codes with numpy date
    arithmetic; the join is as large as the sum over client-productgroep pairs of
    (number of toewijzingen) squared, which is small in practice.
    """
    t = toewijzingen
    n = len(t)
    aansluit = np.int64(params.aansluit_dagen) * 86_400 * 10**9
    recid = np.int64(params.recidief_dagen) * 86_400 * 10**9
    peil = np.int64(params.peil_ts.value)

    # (client, productgroep) as one integer key.
    cc = _chain_codes(t, "client_id")  # client_nr when present (same partition, no string hashing)
    pgc, pgu = _codes(t["productgroep"] if "productgroep" in t.columns else pd.Series("", index=t.index), "")
    key = cc * (len(pgu) + 1) + pgc
    ing = t["ingangsdatum"].to_numpy(dtype="datetime64[ns]").view("int64")
    eind_dt = t["einddatum"].to_numpy(dtype="datetime64[ns]")
    heeft_eind = ~np.isnat(eind_dt)
    eind = np.where(heeft_eind, eind_dt.view("int64"), _OPEN)

    e0 = np.where(heeft_eind, eind, 0)  # no arithmetic on the open sentinel
    telt_v = heeft_eind & (e0 < peil) & (e0 + aansluit < peil)
    telt_r = heeft_eind & (e0 < peil) & (e0 + recid < peil)

    verlengd = np.zeros(n, dtype=bool)
    recidief_kand = np.zeros(n, dtype=bool)
    a_pos = np.flatnonzero(telt_v)
    if len(a_pos):
        A = pd.DataFrame({"key": key[a_pos], "a": a_pos})
        B = pd.DataFrame({"key": key, "b": np.arange(n)})
        # Only keys that hold an A matter for B (keys are small non-negative ints: a lookup table).
        heeft_a = np.zeros(int(key.max()) + 1, dtype=bool)
        heeft_a[A["key"].to_numpy()] = True
        B = B[heeft_a[key]]
        j = A.merge(B, on="key", how="inner")
        a = j["a"].to_numpy()
        b = j["b"].to_numpy()
        later_start = ing[b] > ing[a]
        v = later_start & (ing[b] <= eind[a] + aansluit) & (eind[b] > eind[a])
        r = (ing[b] > eind[a] + aansluit) & (ing[b] <= eind[a] + recid)
        np.logical_or.at(verlengd, a[v], True)
        np.logical_or.at(recidief_kand, a[r], True)

    out = pd.DataFrame({
        "telt_verlenging": telt_v,
        "verlengd": verlengd & telt_v,
        "telt_recidief": telt_r,
        "recidief": recidief_kand & ~verlengd & telt_r,
    }, index=t.index)
    return out


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``verlenging`` and ``recidief`` (fractie; metrics.md section 4).

    Per period of the toewijzing's einddatum: verlengd / toewijzingen counted and
    recidief / toewijzingen counted, total and per ``financieringsvorm=...``;
    ``n_clienten`` = distinct clients among the toewijzingen counted.
    """
    toew = cleaned.toewijzingen
    st = verlenging_status(toew, params)
    cols = [c for c in ("client_id", "client_nr", "regio", "gemeentecode", "financieringsvorm", "einddatum") if c in toew.columns]
    t = toew[cols].join(st)
    t = eindigend_in_periode(t, params)
    if len(t) == 0:
        return _finish(pd.DataFrame())
    dims = {"": None, "financieringsvorm": "financieringsvorm"}
    rows = []
    for kpi, telt, flag in (("verlenging", "telt_verlenging", "verlengd"),
                            ("recidief", "telt_recidief", "recidief")):
        sel = t.loc[t[telt].to_numpy(dtype=bool)]
        if len(sel) == 0:
            continue
        sel = sel.assign(_teller=sel[flag].astype("int64"), _noemer=1)
        agg = _kpi_rows(sel, dims, ["_teller", "_noemer"])
        rows.append(agg.assign(kpi=kpi, waarde=agg["_teller"] / agg["_noemer"], eenheid="fractie"))
    if not rows:
        return _finish(pd.DataFrame())
    return _finish(pd.concat(rows, ignore_index=True))
