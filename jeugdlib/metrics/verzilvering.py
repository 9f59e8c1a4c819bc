"""Verzilvering (P*Q): how much of what was allocated was declared (metrics.md section 3).

For toewijzingen of ``inspanning`` products whose ``einddatum`` lies in a period
whose last day is before the peildatum:

* maximum volume = ``volume`` x the number of frequency units in
  [ingangsdatum, einddatum] (:func:`maximum_volume`);
* delivered volume = the net declared volume on the toewijzing, converted to the
  toewijzing's eenheid (minutes, hours and dagdelen convert; any other mix of
  units makes the toewijzing unusable: status ``eenheid_mix``, reported, left out);
* budget-only toewijzingen (eenheid 83 or a ``Budget``): delivered = net declared
  amount, maximum = budget.

Both sides are valued at the product's tarief, so units never mix:
``verzilvering = sum(delivered x tarief) / sum(maximum x tarief)``.

Two levels: :func:`verzilvering_per_toewijzing` (one row per toewijzing, for
distributions and the "what if everything were declared" view of the reports)
and :func:`kpis` (the aggregated KPI rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import config, schema
from . import _common

#: WMO757 Frequentie codes.
FREQ_DAG, FREQ_WEEK, FREQ_MAAND, FREQ_TOTAAL = "1", "2", "4", "6"
#: WJ756 Eenheid code for euro (budget-only toewijzingen).
EENHEID_EURO = "83"

#: Status values of :func:`verzilvering_per_toewijzing`; only ``ok`` enters the KPIs.
STATUS_OK = "ok"
STATUS_EENHEID_MIX = "eenheid_mix"  # declared in a unit that does not convert
STATUS_FREQUENTIE = "frequentie_onbekend"  # no volume or frequency not 1/2/4/6
STATUS_TARIEF = "geen_tarief"  # the product has no tarief to value the volume at


def _codes(s, fill: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (NA -> -1, or ``fill``) and the uniques (object array) of a column."""
    s = pd.Series(s, copy=False)
    if fill is not None:
        s = s.astype(schema.S).fillna(fill)
    codes, uniq = pd.factorize(s)
    return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=object)


def _code(s: pd.Series, width: int = 0) -> pd.Series:
    """Normalise a code column: stripped text; ``width`` left-pads digits (eenheid '4' -> '04'),
    else leading zeros go (frequentie '01' -> '1'). Works on the distinct values only."""
    s = pd.Series(s, copy=False)
    codes, uniq = _codes(s)
    u = pd.Series(uniq, dtype="string").str.strip()
    u = u.str.zfill(width) if width else u.str.lstrip("0")
    vals = np.append(u.to_numpy(dtype=object, na_value=None), None)
    return pd.Series(vals[codes], index=s.index, dtype=schema.S)


def _num(s: pd.Series) -> np.ndarray:
    """A numeric column as float64 numpy (NA -> NaN)."""
    return pd.to_numeric(pd.Series(s, copy=False), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def frequentie_eenheden(toewijzingen: pd.DataFrame) -> pd.Series:
    """Number of frequency units in [ingangsdatum, einddatum] (metrics.md section 3).

    ``1`` per dag: days, both ends included; ``2`` per week: ceil(days / 7);
    ``4`` per maand: calendar months that overlap the interval; ``6`` totaal: 1.
    Any other (or empty) frequentie gives NaN. An open einddatum uses
    ``einddatum_eff`` (the day before the peildatum) when that column is present.
    """
    out = _eenheden_op(toewijzingen, None)
    return pd.Series(out, index=toewijzingen.index, name="eenheden", dtype="float64")


def maximum_volume(toewijzingen: pd.DataFrame) -> pd.Series:
    """Maximum volume of each toewijzing = ``volume`` x :func:`frequentie_eenheden` (metrics.md 3).

    In the toewijzing's own eenheid; NaN when volume or frequentie is missing or unknown.
    """
    vol = _num(toewijzingen["volume"])
    return pd.Series(vol * frequentie_eenheden(toewijzingen).to_numpy(), index=toewijzingen.index,
                     name="maximum_volume", dtype="float64")


def is_budget(toewijzingen: pd.DataFrame) -> pd.Series:
    """True for budget-only toewijzingen: eenheid 83 (euro) or a ``Budget`` given (metrics.md 3)."""
    eenheid = _code(toewijzingen["eenheid"], 2)
    out = (eenheid == EENHEID_EURO).fillna(False) | toewijzingen["budget_cent"].notna()
    return pd.Series(out.to_numpy(dtype=bool), index=toewijzingen.index, name="budget")


def eenheid_factor(van: pd.Series, naar: pd.Series) -> pd.Series:
    """Factor converting a volume in eenheid ``van`` to eenheid ``naar`` (data-contract 1.1).

    1 when the units are equal; minutes (01), hours (04) and dagdelen (16) convert
    via hours (``config.EENHEID_UREN``); any other mix gives NaN.
    """
    v = _code(van, 2)
    n = _code(naar, 2)
    uren_v = v.map(config.EENHEID_UREN).astype("float64").to_numpy()
    uren_n = n.map(config.EENHEID_UREN).astype("float64").to_numpy()
    same = (v == n).fillna(False).to_numpy(dtype=bool)
    out = np.where(same, 1.0, uren_v / uren_n)
    return pd.Series(out, index=pd.Series(van).index, dtype="float64")


def _arrow_tekst(values) -> pa.Array:
    """Text values (a Series or an object array) as one Arrow ``large_string`` array."""
    a = pa.array(pd.Series(values, copy=False).astype(schema.S).array)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.large_string())


def _arrow_uniek(uniq: np.ndarray) -> pa.Array:
    """Distinct values (object array of :func:`_common.column_codes`) as one Arrow
    string array: straight from the Python strings when they are all ``str``, else
    as :func:`_arrow_tekst` (text conversion first)."""
    try:
        return pa.array(uniq, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _arrow_tekst(pd.Series(uniq, dtype=object))


def _als_getallen(a: pa.Array) -> np.ndarray | None:
    """The texts of ``a`` as int64 when every one is the canonical decimal form of
    its number (``str(int(x)) == x``: no sign but "-", no leading zero, no spaces),
    so that equal numbers are equal texts; else None. Missing texts give 0 (the
    caller masks them)."""
    try:
        getal = pc.cast(a, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.equal(pc.cast(getal, a.type), a)).as_py():  # (missing ones are skipped)
        return None
    return np.asarray(getal.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


class _Zoeker:
    """Lookup among ``uniek`` (distinct texts, no missing): :meth:`zoek` gives the
    position in ``uniek`` of each of a series of texts.

    When the texts are canonical decimal numbers (:func:`_als_getallen`, e.g.
    toewijzing numbers) the lookup is on int64: a table indexed by the number when
    their range is small (no hashing at all), else a hash index built once;
    otherwise Arrow's ``index_in`` on the texts."""

    def __init__(self, uniek):
        self.b = uniek if isinstance(uniek, pa.Array) else _arrow_uniek(uniek)
        self.bi = _als_getallen(self.b) if len(uniek) else None
        self.tabel = self.index = None
        if self.bi is not None:
            self.lo = int(self.bi.min())
            span = int(self.bi.max()) - self.lo + 1
            if span <= 4 * len(self.bi) + 4096:
                self.tabel = np.full(span, -1, dtype=np.int64)
                self.tabel[self.bi - self.lo] = np.arange(len(self.bi))
            else:
                self.index = pd.Index(self.bi)

    def zoek(self, waarden) -> np.ndarray:
        """Position in ``uniek`` of each of ``waarden`` (an object array of texts or an
        Arrow text array), -1 where absent or missing."""
        if len(waarden) == 0 or len(self.b) == 0:
            return np.full(len(waarden), -1, dtype=np.int64)
        a = waarden if isinstance(waarden, pa.Array) else _arrow_uniek(waarden)
        ai = _als_getallen(a) if self.bi is not None else None
        if ai is not None:
            if self.tabel is not None:
                j = ai - self.lo
                binnen = (j >= 0) & (j < len(self.tabel))
                out = np.where(binnen, self.tabel[np.where(binnen, j, 0)], -1)
            else:
                out = np.asarray(self.index.get_indexer(ai), dtype=np.int64)
            if a.null_count:
                out[np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = -1
            return out
        b = self.b if self.b.type == a.type else self.b.cast(a.type)
        hit = pc.index_in(a, value_set=b, skip_nulls=True).fill_null(-1)
        return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=np.int64)


_ZOEKER_CACHE: dict = _common.register_cache({})


def _zoeker(df: pd.DataFrame, col: str) -> tuple[_Zoeker, np.ndarray]:
    """:class:`_Zoeker` of the distinct values of ``df[col]`` and the column's codes
    (:func:`_common.column_codes`), cached while the frame and column live (the
    toewijzing numbers are looked up by trajecten and verzilvering)."""
    import weakref

    codes, uniq = _common.column_codes(df, col)
    arr = df[col].array
    key = (id(df), col)
    hit = _ZOEKER_CACHE.get(key)
    if hit is not None and hit[0]() is df and hit[1]() is arr and hit[2] is not None and len(hit[2].b) == len(uniq):
        return hit[2], codes
    for k in [k for k, v in _ZOEKER_CACHE.items() if v[0]() is None or v[1]() is None]:
        del _ZOEKER_CACHE[k]
    z = _Zoeker(uniq)
    try:
        _ZOEKER_CACHE[key] = (weakref.ref(df), weakref.ref(arr), z)
    except TypeError:  # an array type without weak references: no caching
        pass
    return z, codes


_KOPPEL_CACHE: dict = _common.register_cache({})


def _nummer_koppeling(d: pd.DataFrame, t: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The declarations' toewijzing numbers linked to the rows of ``t``: ``(codes,
    eerste, laatste)``.

    ``codes``: :func:`_common.column_codes` of ``d["toewijzing_nr"]`` (missing -1);
    ``eerste[k]`` / ``laatste[k]``: the first / last position in ``t`` of distinct
    number ``k`` (-1: not in ``t``), each with one extra -1 at the end, so that
    ``eerste[codes]`` gives every item its row (a missing number: -1). Both
    columns' codes are the shared cached ones; the only string work is one lookup
    of the distinct numbers of ``d`` among the distinct numbers of ``t``
    (:class:`_Zoeker`, on int64 when the numbers are plain decimal). Cached while
    both frames and columns live, so trajecten and verzilvering link the
    declarations once (``codes`` is then shared: read-only)."""
    import weakref

    d_arr, t_arr = d["toewijzing_nr"].array, t["toewijzing_nr"].array
    key = (id(d), id(t))
    hit = _KOPPEL_CACHE.get(key)
    if (hit is not None and hit[0]() is d and hit[1]() is t and hit[2]() is d_arr and hit[3]() is t_arr
            and hit[4] == (len(d), len(t))):
        return hit[7], hit[5], hit[6]
    for k in [k for k, v in _KOPPEL_CACHE.items() if any(r() is None for r in v[:4])]:
        del _KOPPEL_CACHE[k]
    codes, d_uniq = _common.column_codes(d, "toewijzing_nr")
    codes.flags.writeable = False
    zoeker, t_codes = _zoeker(t, "toewijzing_nr")
    t_uniq = _common.column_codes(t, "toewijzing_nr")[1]
    pos = np.flatnonzero(t_codes >= 0)
    tc = t_codes[pos]
    t_eerste = np.full(len(t_uniq), len(t), dtype=np.int64)
    np.minimum.at(t_eerste, tc, pos)
    t_laatste = np.full(len(t_uniq), -1, dtype=np.int64)
    np.maximum.at(t_laatste, tc, pos)
    hit_u = zoeker.zoek(d_uniq)
    gevonden = hit_u >= 0
    eerste = np.append(np.where(gevonden, t_eerste[np.where(gevonden, hit_u, 0)] if len(t_uniq) else -1, -1), -1)
    laatste = np.append(np.where(gevonden, t_laatste[np.where(gevonden, hit_u, 0)] if len(t_uniq) else -1, -1), -1)
    try:
        _KOPPEL_CACHE[key] = (weakref.ref(d), weakref.ref(t), weakref.ref(d_arr), weakref.ref(t_arr),
                              (len(d), len(t)), eerste, laatste, codes)
    except TypeError:  # an array type without weak references: no caching
        pass
    return codes, eerste, laatste


def _declaratie_rijen(d: pd.DataFrame, t: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """Per declaration item: the index into ``pos`` (positions in ``t``) of its
    toewijzing, the first row of ``t`` with its toewijzing_nr; -1 when that row is
    not selected, the number is not in ``t`` or missing. From
    :func:`_nummer_koppeling` (shared by trajecten, verzilvering and forecast), then
    one gather per item."""
    codes, eerste, _ = _nummer_koppeling(d, t)
    inv = np.full(len(t) + 1, -1, dtype=np.int64)  # position -> index into pos; -1 (last) stays -1
    inv[pos] = np.arange(len(pos))
    return inv[eerste][codes]


#: The toewijzingen columns :func:`_per_toewijzing` reads.
_KOLOMMEN = ("toewijzing_nr", "ingangsdatum", "einddatum", "einddatum_eff", "volume", "eenheid", "frequentie",
             "budget_cent", "tarief_cent")


def _per_toewijzing_rijen(toew: pd.DataFrame, d: pd.DataFrame, pos: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_per_toewijzing` of the rows of ``toew`` at positions ``pos`` (arrays
    aligned to ``pos``), as :func:`verzilvering_per_toewijzing` of ``toew.iloc[pos]``.
    When every linked number is on one row of ``toew``, the declarations are linked
    by :func:`_declaratie_rijen` and the values taken from the whole frame; else (a
    number on several rows: the last of them in the selection counts) on a copy of
    the selected rows."""
    _, eerste, laatste = _nummer_koppeling(d, toew)
    if np.array_equal(eerste, laatste):
        return _per_toewijzing(toew, d, _declaratie_rijen(d, toew, pos), rows=pos)
    return _per_toewijzing(toew[[c for c in _KOLOMMEN if c in toew.columns]].take(pos), d)


def _toewijzing_positie(toew: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
    """Position in ``toew`` of each declaration's toewijzing_nr (-1: none of these; a
    number that occurs twice in ``toew`` maps to its last row), from
    :func:`_nummer_koppeling` (the columns' cached codes and one lookup of the
    distinct numbers), not a factorisation of both columns."""
    if len(toew) == 0 or len(d) == 0:
        return np.full(len(d), -1, dtype=np.int64)
    codes, _, laatste = _nummer_koppeling(d, toew)
    return laatste[codes]


def verzilvering_per_toewijzing(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame) -> pd.DataFrame:
    """Per toewijzing: maximum, delivered and declared, valued in eurocent (metrics.md section 3).

    ``toewijzingen``: rows of ``Cleaned.toewijzingen`` (any selection; an open
    einddatum counts up to ``einddatum_eff``). ``declaraties``: netted items of
    ``Cleaned.declaraties``; only items whose ``toewijzing_nr`` is one of these
    toewijzingen are used (a declaration without a known toewijzing never enters
    verzilvering).

    Returns the input rows (same index, all columns) plus:

    * ``budget`` (bool): budget-only toewijzing (eenheid 83 or Budget given);
    * ``maximum_volume``: volume x frequency units, in the toewijzing's eenheid;
    * ``geleverd_volume``: net declared volume converted to the toewijzing's eenheid;
    * ``toegewezen_cent``: maximum x tarief; for budget-only the budget (or, with
      eenheid 83 and no Budget, the maximum volume in euro x 100);
    * ``geleverd_cent``: delivered x tarief; for budget-only the net declared amount;
    * ``gedeclareerd_cent``: net declared amount on the toewijzing;
    * ``verzilvering``: geleverd_cent / toegewezen_cent;
    * ``status``: ``ok``, ``eenheid_mix``, ``frequentie_onbekend`` or ``geen_tarief``;
      only ``ok`` rows enter the KPIs.
    """
    out = toewijzingen.copy()
    for col, values in _per_toewijzing(toewijzingen, declaraties).items():
        out[col] = values
    return out


def _waarden(s: pd.Series, rows: np.ndarray) -> pd.Series:
    """``s`` at positions ``rows`` (a Series with a fresh RangeIndex)."""
    return s.take(rows).reset_index(drop=True)


def _op(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _getallen_op(s: pd.Series, rows: np.ndarray | None) -> np.ndarray:
    """``_num(s)`` at positions ``rows`` (all when None): a numeric column is
    converted whole and then indexed (no Series copy of the selection)."""
    if rows is None or not pd.api.types.is_numeric_dtype(s.dtype):
        return _num(s if rows is None else _waarden(s, rows))
    return s.to_numpy(dtype="float64", na_value=np.nan)[rows]


def _code_op(toew: pd.DataFrame, col: str, width: int, rows: np.ndarray | None) -> np.ndarray:
    """``_code(toew[col], width)`` at positions ``rows`` as an object array (missing ->
    None); with ``rows`` normalised per distinct value of the whole column's cached
    codes (:func:`_common.column_codes`)."""
    if rows is None:
        return _code(toew[col], width).to_numpy(dtype=object, na_value=None)
    codes, uniq = _common.column_codes(toew, col)
    norm = _code(pd.Series(uniq, dtype=object), width).to_numpy(dtype=object, na_value=None)
    return np.append(norm, None)[codes[rows]]


def _eenheden_op(toew: pd.DataFrame, rows: np.ndarray | None) -> np.ndarray:
    """:func:`frequentie_eenheden` as an array, at positions ``rows`` (all when None)."""
    ing = _op(toew["ingangsdatum"].to_numpy(dtype="datetime64[ns]"), rows)
    eind = _op(toew["einddatum"].to_numpy(dtype="datetime64[ns]"), rows)
    if "einddatum_eff" in toew.columns:  # the end for volume purposes: einddatum, else einddatum_eff
        eind = np.where(np.isnat(eind), _op(toew["einddatum_eff"].to_numpy(dtype="datetime64[ns]"), rows), eind)
    # on numpy: days as floor((eind - ing) / 1 day) + 1 (as .dt.days), months as the
    # difference of calendar months (year * 12 + month) + 1; a missing date gives NaN
    nat = np.isnat(ing) | np.isnat(eind)
    verschil = np.where(nat, 0, eind.view(np.int64) - ing.view(np.int64))
    dagen = np.where(nat, np.nan, np.floor_divide(verschil, 86_400 * 10**9) + 1.0)
    weken = np.ceil(dagen / 7.0)
    mnd = np.where(nat, 0, eind.astype("datetime64[M]").view(np.int64) - ing.astype("datetime64[M]").view(np.int64))
    maanden = np.where(nat, np.nan, mnd + 1.0)
    f = _code_op(toew, "frequentie", 0, rows)
    return np.select(
        [f == FREQ_DAG, f == FREQ_WEEK, f == FREQ_MAAND, f == FREQ_TOTAAL],
        [dagen, weken, maanden, np.ones_like(dagen)],
        default=np.nan,
    )


def _per_toewijzing(toew: pd.DataFrame, d: pd.DataFrame, d_pos: np.ndarray | None = None,
                    rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The columns :func:`verzilvering_per_toewijzing` adds, as arrays aligned to
    ``toew`` (which needs only toewijzing_nr, ingangsdatum, einddatum,
    einddatum_eff, volume, eenheid, frequentie, budget_cent and tarief_cent).
    ``d_pos``: :func:`_toewijzing_positie` of ``toew`` and ``d`` when the caller has it.
    ``rows``: for the rows of ``toew`` at these positions only (arrays aligned to
    ``rows``; ``d_pos`` is then required and indexes ``rows``): the values are
    taken from the whole frame's columns and cached codes, no rows are copied."""
    n = len(toew) if rows is None else len(rows)
    # Position of each declaration's toewijzing in ``toew`` (-1: not one of these),
    # via one hash lookup of the distinct numbers (toewijzing_nr is unique in Cleaned).
    if d_pos is None:
        d_pos = _toewijzing_positie(toew, d)
    sel = np.flatnonzero(d_pos >= 0)  # the items' values are taken for these only
    if "toewijzing_bekend" in d.columns:
        bekend = d["toewijzing_bekend"]
        if pd.api.types.is_bool_dtype(bekend.dtype):  # converted whole, then indexed
            sel = sel[bekend.to_numpy(dtype=bool, na_value=False)[sel]]
        else:
            sel = sel[_waarden(bekend, sel).fillna(False).to_numpy(dtype=bool)]
    d_pos = d_pos[sel]

    # Unit conversion factor per declared item, on the distinct units only: the
    # declarations' units are the cached codes of the whole column, normalised per
    # distinct value; one vocabulary of the toewijzingen' and declarations' units.
    d_codes, d_units = _common.column_codes(d, "eenheid")
    d_norm = np.append(_code(pd.Series(d_units, dtype=object), 2).fillna("").to_numpy(dtype=object), "")
    t_code = _code_op(toew, "eenheid", 2, rows)
    t_eenheid = np.where(pd.isna(t_code), "", t_code).astype(object)
    uid, vocab = _codes(pd.Series(np.concatenate([t_eenheid, d_norm]), dtype=object))
    t_uid, d_uid = uid[:n], uid[n:][d_codes[sel]]
    uren = pd.Series(vocab).map(config.EENHEID_UREN).to_numpy(dtype="float64", na_value=np.nan)
    tu = t_uid[d_pos]
    # factor per (declared unit, toewijzing unit) pair of the small vocabulary, then one gather
    nv = len(vocab)
    with np.errstate(divide="ignore", invalid="ignore"):
        tabel = np.where(np.eye(nv, dtype=bool), 1.0, uren[:, None] / uren[None, :]).ravel()
    factor = tabel[d_uid * nv + tu]
    vol = _getallen_op(d["volume"], sel)
    bedrag = _getallen_op(d["bedrag_cent"], sel)
    vol = np.nan_to_num(vol, nan=0.0)
    conv = vol * factor
    # A unit that does not convert only matters when something was declared in it.
    mix_item = np.isnan(factor) & (vol != 0)
    geleverd = np.bincount(d_pos, weights=np.nan_to_num(conv, nan=0.0), minlength=n)
    gedeclareerd = np.bincount(d_pos, weights=np.nan_to_num(bedrag, nan=0.0), minlength=n)
    mix = np.bincount(d_pos, weights=mix_item.astype("float64"), minlength=n) > 0

    if rows is None:
        budget = is_budget(toew).to_numpy()
        maxvol = maximum_volume(toew).to_numpy()
    else:  # is_budget and maximum_volume at the rows
        budget = (t_code == EENHEID_EURO) | _op(toew["budget_cent"].notna().to_numpy(dtype=bool), rows)
        maxvol = _getallen_op(toew["volume"], rows) * _eenheden_op(toew, rows)
    tarief = _getallen_op(toew["tarief_cent"], rows) if "tarief_cent" in toew.columns else np.full(n, np.nan)
    budget_cent = _getallen_op(toew["budget_cent"], rows)
    # Budget-only: maximum = Budget; with eenheid 83 and no Budget, the volume is in euro.
    budget_max = np.where(np.isnan(budget_cent), maxvol * 100.0, budget_cent)

    toegewezen = np.where(budget, budget_max, maxvol * tarief)
    geleverd_cent = np.where(budget, gedeclareerd, geleverd * tarief)

    status = np.full(n, STATUS_OK, dtype=object)
    status[~budget & np.isnan(tarief)] = STATUS_TARIEF
    status[~budget & mix] = STATUS_EENHEID_MIX
    status[np.isnan(np.where(budget, budget_max, maxvol))] = STATUS_FREQUENTIE

    with np.errstate(divide="ignore", invalid="ignore"):
        verzilvering = np.where(toegewezen > 0, geleverd_cent / toegewezen, np.nan)
    return {
        "budget": budget,
        "maximum_volume": maxvol,
        "geleverd_volume": np.where(budget, np.nan, geleverd),
        "toegewezen_cent": toegewezen,
        "geleverd_cent": geleverd_cent,
        "gedeclareerd_cent": gedeclareerd,
        "verzilvering": verzilvering,
        "status": pd.array(status, dtype=schema.S),
    }


def _kpi_rows(df: pd.DataFrame, dims: dict[str, str | None], sums: list[str]) -> pd.DataFrame:
    """Sum ``sums`` and count distinct clients per level (gemeente, regio, Nederland),
    period and dimension (metrics._common conventions).

    ``df`` has regio, gemeentecode, periode, client_id and the columns named in
    ``dims`` (dimension label -> column, None for the total; a value ``v`` gives
    ``dimensie`` "label=v", empty values "label=onbekend"). Everything runs on
    integer codes (see :func:`_kpi_rows_codes`). Returns regio, gemeente,
    periode, dimensie, ``sums``, ``n_clienten``.
    """
    rc, ru = _codes(df["regio"], "onbekend")
    gc, gu = _codes(df["gemeentecode"], "onbekend")
    per_c, per_u = _codes(df["periode"])
    cc = _common.client_codes(df)  # client_nr when present: no 64-character strings hashed
    dim_codes = {naam: None if col is None else _codes(df[col].astype(schema.S).fillna("").str.strip())
                 for naam, col in dims.items()}
    return _kpi_rows_codes(rc, ru, gc, gu, per_c, per_u, cc, dim_codes, {c: _num(df[c]) for c in sums})


def _kpi_rows_codes(rc, ru, gc, gu, per_c, per_u, cc, dims: dict, vals: dict[str, np.ndarray]) -> pd.DataFrame:
    """:func:`_kpi_rows` on codes: per row the codes of regio (``rc``, labels ``ru``),
    gemeente (``gc``, ``gu``), periode (``per_c``, ``per_u``) and client (``cc``, -1 =
    unknown); ``dims``: dimension label -> None (the total) or (codes, values) of the
    stripped text (empty -> "label=onbekend"); ``vals``: column -> values to sum.
    Codes only need to tell the groups apart: the rows come out in the order of
    first appearance of their group, whatever the numbering."""
    sums = list(vals)
    parts = []
    for naam, dim in dims.items():
        if dim is None:
            dc, labels = np.zeros(len(rc), dtype=np.int64), np.array([""], dtype=object)
        else:
            dc, du = dim
            labels = np.array([f"{naam}={x if x else 'onbekend'}" for x in du], dtype=object)
        base = pd.DataFrame({"r": rc, "g": gc, "p": per_c, "d": dc, "c": cc, **vals})
        parts.append(_rows_from_codes(base, ru, gu, per_u, labels, sums))
    return pd.concat(parts, ignore_index=True)


def _rij_codes(df: pd.DataFrame, col: str, rows: np.ndarray | slice, fill: str = "",
               strip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes (>= 0) and values of ``df[col]`` at positions ``rows`` (or a slice:
    ``slice(None)`` for every row), as text with missing -> ``fill`` (and stripped
    if ``strip``): the groups and values of
    ``_codes(df[col].iloc[rows].astype(S).fillna(fill)[.str.strip()])``, numbered
    differently. From the whole column's cached codes
    (:func:`_common.column_codes`): nothing is hashed per row."""
    codes, uniq = _common.column_codes(df, col)
    lab = pd.Series(np.append(uniq, None), dtype=object).astype(schema.S).fillna(fill)
    if strip:
        lab = lab.str.strip()
    m_codes, m_uniq = _codes(lab)  # equal texts (e.g. missing and fill) become one code
    return m_codes[codes[rows]], m_uniq


def _heel(v: np.ndarray) -> bool:
    """Whether every partial sum of ``v`` (float64) is exact in any order: whole
    numbers only, finite, absolute sum below 2**53. Then ``np.bincount`` sums equal
    pandas' compensated group sums."""
    if v.dtype != np.float64:
        return False
    a = np.abs(v).sum()
    return bool(np.isfinite(a) and a < 2.0**53 and (v == np.round(v)).all())


def _som_per_groep(codes: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """``pd.Series(v).groupby(codes).sum()`` for groups 0..n-1 (each occurring): by
    ``np.bincount`` when :func:`_heel`, else pandas (the same rounding)."""
    if len(v) and _heel(v):
        return np.bincount(codes, weights=v, minlength=n)
    # grouped on the codes as they are (a Categorical: no second factorisation)
    groepen = pd.Categorical.from_codes(codes, categories=pd.RangeIndex(n))
    return pd.Series(v).groupby(groepen, observed=False).sum().to_numpy()


def _rows_from_codes(base: pd.DataFrame, ru, gu, pu, labels, sums: list[str]) -> pd.DataFrame:
    """Level aggregation on integer codes.

    ``base``: int columns r (regio), g (gemeente), p (periode), d (dimension), c
    (client, -1 = unknown) and value columns. ``sums`` are summed over all rows;
    ``n_clienten``:
    distinct clients per group, so a client in two gemeenten of one regio counts
    once for the regio. ``ru``, ``gu``, ``pu``, ``labels`` turn the codes back into
    names. Each level's group key is a single int64; per level the groups come
    in the order of their first row.

    The rows are grouped once (gemeente level, one hash pass); the regio and
    Nederland groups are formed from the gemeente groups (small). Sums of whole
    numbers are rolled up from the gemeente sums (exact), other sums are summed
    per level by pandas (:func:`_som_per_groep`). Distinct clients: the (client,
    gemeente group) pairs are sorted once, with the gemeente groups ranked by
    (Nederland group, regio group), so that at every level a client's pairs of one
    group are adjacent: a distinct count is a count of changes."""
    r = base["r"].to_numpy(dtype=np.int64)
    g = base["g"].to_numpy(dtype=np.int64)
    p = base["p"].to_numpy(dtype=np.int64)
    d = base["d"].to_numpy(dtype=np.int64)
    c = base["c"].to_numpy(dtype=np.int64)
    nr, ng, npp, nd = len(ru) + 1, len(gu) + 1, len(pu) + 1, len(labels) + 1
    nc = int(c.max()) + 2 if len(c) else 1
    if float(nr) * ng * npp * nd * nc >= 2.0**62:  # pragma: no cover - beyond any real dataset
        raise ValueError("too many groups for integer keys")
    known = c >= 0
    # gemeente groups in the order of their first row; the regio and Nederland
    # groups from the first row of each (a group's first row is that of its
    # earliest gemeente group, so factorising in group order keeps first-row order)
    gcode, gkey = pd.factorize(((r * ng + g) * npp + p) * nd + d)
    gcode = np.asarray(gcode, dtype=np.int64)
    n_g = len(gkey)
    eerste = np.full(n_g, len(r), dtype=np.int64)
    np.minimum.at(eerste, gcode, np.arange(len(r), dtype=np.int64))
    rf, pf, df_ = r[eerste], p[eerste], d[eerste]
    r_of_g, rkey = pd.factorize((rf * npp + pf) * nd + df_)
    r_of_g = np.asarray(r_of_g, dtype=np.int64)
    eerste_r = np.full(len(rkey), n_g, dtype=np.int64)
    np.minimum.at(eerste_r, r_of_g, np.arange(n_g, dtype=np.int64))
    n_of_r, nkey = pd.factorize(pf[eerste_r] * nd + df_[eerste_r])
    n_of_r = np.asarray(n_of_r, dtype=np.int64)
    up = {"gemeente": np.arange(n_g, dtype=np.int64), "regio": r_of_g, "nederland": n_of_r[r_of_g]}
    levels = (("gemeente", np.asarray(gkey, dtype=np.int64)), ("regio", np.asarray(rkey, dtype=np.int64)),
              ("nederland", np.asarray(nkey, dtype=np.int64)))
    # distinct clients: sort (client, rank of the gemeente group) once
    rang = np.empty(n_g, dtype=np.int64)
    rang[np.lexsort((np.arange(n_g), up["regio"], up["nederland"]))] = np.arange(n_g)
    g_van_rang = np.argsort(rang)
    paar = np.sort(c[known] * n_g + rang[gcode[known]])
    paar_c, paar_g = paar // n_g, g_van_rang[paar % n_g]
    nieuwe_client = np.r_[True, paar_c[1:] != paar_c[:-1]] if len(paar) else np.zeros(0, dtype=bool)
    # sums: whole numbers per gemeente group, rolled up; others per level (pandas)
    heel = {col: _heel(v) for col, v in ((col, base[col].to_numpy()) for col in sums)}
    gsom = {col: np.bincount(gcode, weights=base[col].to_numpy(), minlength=n_g) for col in sums if heel[col]}
    parts = []
    for lvl, k in levels:
        n = len(k)
        codes = up[lvl][gcode]
        agg = {}
        for col in sums:
            if heel[col]:
                agg[col] = gsom[col] if lvl == "gemeente" else np.bincount(up[lvl], weights=gsom[col], minlength=n)
            else:
                agg[col] = _som_per_groep(codes, base[col].to_numpy(), n)
        grp = up[lvl][paar_g]
        nieuw = nieuwe_client.copy()
        nieuw[1:] |= grp[1:] != grp[:-1]
        agg["n_clienten"] = np.bincount(grp[nieuw], minlength=n).astype("float64")
        kd = k % nd
        rest = k // nd
        kp = rest % npp
        rest = rest // npp
        out = pd.DataFrame({
            "regio": ru[rest // ng] if lvl == "gemeente" else (ru[rest] if lvl == "regio" else config.NEDERLAND),
            "gemeente": gu[rest % ng] if lvl == "gemeente" else "",
            "periode": np.asarray(pu, dtype=object)[kp],
            "dimensie": np.asarray(labels, dtype=object)[kd],
        })
        for col in list(sums) + ["n_clienten"]:
            out[col] = agg[col]
        parts.append(out)
    res = pd.concat(parts, ignore_index=True)
    for col in ("regio", "gemeente", "periode", "dimensie"):
        res[col] = res[col].astype(schema.S)
    return res


def _finish(rows: pd.DataFrame) -> pd.DataFrame:
    """KPI rows in the column order and dtypes of docs/architecture.md (KPI rows)."""
    cols = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N]
    if len(rows) == 0:
        out = schema.empty("kpi")[["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid"]]
        out[schema.KPI_N] = pd.Series([], dtype="float64")
        return out
    out = rows[cols].sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"], kind="mergesort")
    out = out.reset_index(drop=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        out[c] = out[c].astype(schema.S)
    out["waarde"] = out["waarde"].astype("float64").astype(schema.F)
    out[schema.KPI_N] = out[schema.KPI_N].astype("float64")
    return out


def eindigend_in_periode(toewijzingen: pd.DataFrame, params: config.Params, *,
                         alleen_volledig: bool = False) -> pd.DataFrame:
    """Toewijzingen with a real einddatum before the peildatum, with the ``periode`` of that einddatum.

    Open toewijzingen (no einddatum) have not ended and are left out; so are
    einddata outside the analysis window. With ``alleen_volledig`` only periods
    whose last day is before the peildatum are kept (metrics.md section 3).
    """
    pos, idx, per = _eindigend_posities(toewijzingen, params, alleen_volledig=alleen_volledig)
    t = toewijzingen.iloc[pos].copy()
    t["periode"] = pd.array(per["periode"].to_numpy(dtype=object)[idx], dtype=schema.S)
    return t


def _eindigend_posities(toewijzingen: pd.DataFrame, params: config.Params, *, alleen_volledig: bool = False,
                        rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The rows of :func:`eindigend_in_periode` (among ``rows`` if given) as positions
    in ``toewijzingen``, the index of their period in the periods table, and that table."""
    per = _common.periods(params.start, params.peildatum, params.per)
    if alleen_volledig:
        per = per[~per["voorlopig"]]
    eind = toewijzingen["einddatum"].to_numpy(dtype="datetime64[ns]")
    if rows is not None:
        eind = eind[rows]
    idx = periode_index(eind, per)
    peil = np.datetime64(params.peil_ts.to_datetime64(), "ns")
    start = np.datetime64(params.start_ts.to_datetime64(), "ns")
    idx[(eind >= peil) | (eind < start)] = -1  # NaT compares False: stays out via periode_index
    keep = np.flatnonzero(idx >= 0)
    return (keep if rows is None else np.asarray(rows)[keep]), idx[keep], per


def periode_index(dates: pd.Series, per: pd.DataFrame) -> np.ndarray:
    """Position in ``per`` of the period holding each date; -1 for none (see
    :func:`jeugdlib.metrics._common.period_index`)."""
    return _common.period_index(dates, per)


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``verzilvering``, ``toegewezen_bedrag``, ``gedeclareerd_bedrag`` (metrics.md section 3).

    Over toewijzingen of ``inspanning`` products (budget-only ones included) whose
    einddatum lies in a period whose last day is before the peildatum, with status
    ``ok`` (see :func:`verzilvering_per_toewijzing`). ``verzilvering`` has the
    dimensions total, ``type=micro/regulier`` and ``productcode=...``; the two
    amounts (euro) the total only. ``n_clienten`` = distinct clients in the group.
    """
    toew = cleaned.toewijzingen
    fv_c, fv_u = _common.column_codes(toew, "financieringsvorm")
    inspanning = np.flatnonzero(np.append(pd.Series(fv_u, dtype=object).eq("inspanning").to_numpy(dtype=bool),
                                          False)[fv_c])
    pos, pidx, per = _eindigend_posities(toew, params, alleen_volledig=True, rows=inspanning)
    if len(pos) == 0:
        return _finish(pd.DataFrame())
    w = _per_toewijzing_rijen(toew, cleaned.declaraties, pos)
    ok = (w["status"] == STATUS_OK).to_numpy(dtype=bool)
    if not ok.any():
        return _finish(pd.DataFrame())
    # Grouped on the whole frame's cached codes at the ok rows (no strings copied).
    ok_pos = pos[ok]
    if "aanbieder_type" in toew.columns:
        typ = _rij_codes(toew, "aanbieder_type", ok_pos, strip=True)
    else:
        typ = (np.zeros(len(ok_pos), dtype=np.int64), np.array(["regulier"], dtype=object))
    dims = {"": None, "type": typ, "productcode": _rij_codes(toew, "productcode", ok_pos, strip=True)}
    sums = ["geleverd_cent", "toegewezen_cent", "gedeclareerd_cent"]
    rc, ru = _rij_codes(toew, "regio", ok_pos, "onbekend")
    gc, gu = _rij_codes(toew, "gemeentecode", ok_pos, "onbekend")
    agg = _kpi_rows_codes(rc, ru, gc, gu, pidx[ok], per["periode"].to_numpy(dtype=object),
                          _common.client_codes(toew)[ok_pos], dims,
                          {c: np.asarray(w[c], dtype="float64")[ok] for c in sums})
    agg = agg[agg["toegewezen_cent"] > 0]
    rows = [agg.assign(kpi="verzilvering", waarde=agg["geleverd_cent"] / agg["toegewezen_cent"],
                       eenheid="fractie")]
    tot = agg[agg["dimensie"] == ""]
    rows.append(tot.assign(kpi="toegewezen_bedrag", waarde=tot["toegewezen_cent"] / 100.0, eenheid="euro"))
    rows.append(tot.assign(kpi="gedeclareerd_bedrag", waarde=tot["gedeclareerd_cent"] / 100.0, eenheid="euro"))
    return _finish(pd.concat(rows, ignore_index=True))
