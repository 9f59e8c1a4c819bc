"""Cleaning: metrics.md section 0 as one step, every rule counted.

``clean(ds, params) -> Cleaned`` turns the canonical tables of a :class:`Dataset`
into the analysis tables every metric works on (contract: docs/architecture.md,
"Cleaned data"). Rules, in this order:

Toewijzingen (metrics.md 0 and 0.1)
  1. ``oudere_versie``: only the latest version of a ToewijzingNummer is kept
     (highest Toewijzingsdatum + Toewijzingstijd; on a tie the last one read).
  2. ``reden_wijziging_13``: the latest version has RedenWijziging 13 (verwijderd).
  3. ``einde_voor_ingang``: einddatum < ingangsdatum.
  4. ``ingang_na_peildatum``: ingangsdatum on or after the peildatum (or empty).
  5. ``leeftijd``: age in completed years on the ingangsdatum > ``max_leeftijd``.
  6. ``exclude_agb``: aanbieder in ``params.exclude_agb``.

Declaraties (metrics.md 0 and 0.2)
  1. ``periode_na_peildatum``: periode_begin on or after the peildatum (or empty).
  2. ``saldering``: lines netted into items over debet and credit; key
     (toewijzing_nr, productcode, periode_begin, periode_eind), or without a
     ToewijzingNummer (client_id, agb, productcode, periode_begin, periode_eind).
  3. ``netto_nul_creditering``: items whose net amount is 0 because a credit
     cancels a debet.
  4. ``netto_nul_bedrag``: items whose net amount is 0 without any credit
     (zero-amount lines).
  5. ``leeftijd``: age on periode_begin > ``max_leeftijd``; the birth date comes
     from the client's toewijzingen (all versions); unknown: kept and signalled.
  6. ``exclude_agb``.

A credit without any debet stays as a negative item (``credit_zonder_debet``)
and is listed in ``signalen['credit_zonder_debet']``.

Everything is vectorised: keys are combined into integer codes and netting is a
sort plus ``np.add.reduceat``; reference attributes are looked up once per
distinct (code, date) pair.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from . import config, schema
from .dataset import Dataset
from .config import Params

PRODUCT_ATTRS = ["productgroep", "financieringsvorm", "segment", "zwaarte", "variant",
                 "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent", "product_bekend"]

TELLING_COLUMNS = {"stap": schema.I, "tabel": schema.S, "regel": schema.S, "voor": schema.I,
                   "verwijderd": schema.I, "omschrijving": schema.S}


@dataclasses.dataclass
class Cleaned:
    """The cleaned analysis tables (docs/architecture.md, "Cleaned data")."""

    toewijzingen: pd.DataFrame
    declaraties: pd.DataFrame
    start_stop: pd.DataFrame
    verzoeken: pd.DataFrame
    producten: pd.DataFrame
    aanbieders: pd.DataFrame
    gemeenten: pd.DataFrame
    plekken: pd.DataFrame
    budgetplafonds: pd.DataFrame
    bevolking: pd.DataFrame
    telling: pd.DataFrame
    signalen: dict
    params: Params
    #: Latest versions withdrawn with RedenWijziging 13 (same columns as
    #: ``toewijzingen``), for counts that include withdrawn toewijzingen
    #: (verdeelsleutel, metrics.md section 9). Not for any other metric.
    toewijzingen_ingetrokken: pd.DataFrame | None = None
    #: The dataset this was cleaned from (for the data-quality report).
    dataset: Dataset | None = None


# --------------------------------------------------------------------------- helpers
# Everything works on integer codes (pd.factorize of the Arrow-backed columns):
# no conversion of millions of strings to Python objects.

def codes_of(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Dense int64 codes of a column and its unique values; NA and "" -> -1."""
    c, u = pd.factorize(pd.Series(s), use_na_sentinel=True)
    c = np.asarray(c, dtype=np.int64)
    u = pd.Index(u)
    if len(u) and u.dtype != object and str(u.dtype) not in ("string", "str", "string[pyarrow]"):
        return c, u
    empty = np.flatnonzero(np.asarray(u == "", dtype=bool)) if len(u) else np.zeros(0, np.int64)
    if len(empty):
        c = np.where(c == empty[0], -1, c)
    return c, u


def _date_days(s) -> np.ndarray:
    """Dates as int64 days since 1970 (NaT -> a sentinel far in the past)."""
    v = np.asarray(pd.Series(s).to_numpy(dtype="datetime64[ns]"))
    days = v.astype("datetime64[D]").astype("int64")
    days[np.isnat(v)] = -(2**40)
    return days


def combine_keys(arrays: list) -> np.ndarray:
    """One dense int64 code per distinct combination of integer ``arrays`` (in order
    of first appearance). Pairwise factorisation keeps products below n**2."""
    key = None
    for a in arrays:
        c, u = pd.factorize(np.asarray(a, dtype=np.int64))
        c = c.astype(np.int64)
        key = c if key is None else pd.factorize(key * max(len(u), 1) + c)[0].astype(np.int64)
    return key


def first_positions(key: np.ndarray) -> np.ndarray:
    """Position of the first row of each code of a dense key from :func:`combine_keys`
    (codes are numbered in order of first appearance)."""
    return pd.Series(key).drop_duplicates().index.to_numpy()


def take(values, codes: np.ndarray):
    """``values[codes]`` as a pandas array, -1 -> missing (vectorised)."""
    arr = pd.array(values) if not isinstance(values, pd.api.extensions.ExtensionArray) else values
    return arr.take(np.asarray(codes, dtype=np.int64), allow_fill=True)


def map_codes(s: pd.Series, mapping: pd.Series, dtype) -> pd.api.extensions.ExtensionArray:
    """``s.map(mapping)`` computed once per distinct value of ``s``."""
    c, u = codes_of(s)
    vals = pd.Series(u, dtype=mapping.index.dtype if len(u) == 0 else None).map(mapping)
    return take(pd.array(vals.to_numpy(dtype=object), dtype=dtype), c)


def _ymd(d: np.ndarray):
    d = np.asarray(d, dtype="datetime64[ns]")
    y = d.astype("datetime64[Y]").astype("int64") + 1970
    m = d.astype("datetime64[M]")
    day = (d.astype("datetime64[D]") - m.astype("datetime64[D]")).astype("int64") + 1
    return y, m.astype("int64") % 12 + 1, day


def leeftijd(geboortedatum, datum) -> pd.Series:
    """Age in completed years on ``datum`` (metrics.md section 0, max_leeftijd).

    Float with NaN where either date is missing. Someone born 2002-09-01 is 21 on
    2024-08-31 and 22 on 2024-09-01.
    """
    g = np.asarray(pd.Series(geboortedatum).to_numpy(dtype="datetime64[ns]"))
    d = np.asarray(pd.Series(datum).to_numpy(dtype="datetime64[ns]"))
    gy, gm, gd = _ymd(g)
    dy, dm, dd = _ymd(d)
    out = (dy - gy - ((dm * 100 + dd) < (gm * 100 + gd))).astype("float64")
    out[np.isnat(g) | np.isnat(d)] = np.nan
    return pd.Series(out)


def _lookup_by_code_date(c: np.ndarray, u: pd.Index, dates, table: pd.DataFrame, code_col: str,
                         valid_fn, order_col: str, cols: list[str]) -> tuple[dict, np.ndarray]:
    """Attributes of the reference row for each (code, date), looked up once per distinct pair.

    ``c``/``u``: codes and uniques of the records' code column (:func:`codes_of`).
    ``valid_fn(rows)`` -> bool array of candidate rows valid on their date ``_d``.
    Among the rows of a code a valid one with the latest ``order_col`` wins, else
    (code known, no row valid on the date) the one with the latest ``order_col``.
    Returns ({column: array aligned to the records}, known-code flag).
    """
    n = len(c)
    key = combine_keys([c, _date_days(dates)]) if n else np.zeros(0, np.int64)
    first = first_positions(key) if n else np.zeros(0, np.int64)
    dates_np = np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"))
    uc = c[first]
    uniq = pd.DataFrame({"_k": np.arange(len(first)), "_c": uc, "_d": dates_np[first]})
    ref = table.copy()
    ref["_c"] = pd.Index(u).get_indexer(ref[code_col].astype(object).where(ref[code_col].notna(), None)) \
        if len(u) else np.full(len(ref), -1)
    ref = ref[ref["_c"] >= 0]
    m = uniq[uniq["_c"] >= 0].merge(ref.drop(columns=[code_col]), on="_c", how="inner")
    if len(m):
        m["_valid"] = np.asarray(valid_fn(m), dtype=bool)
        m = m.sort_values(["_k", "_valid", order_col], ascending=[True, False, False],
                          na_position="last", kind="mergesort")
        m = m.drop_duplicates("_k", keep="first")
    pos = np.full(len(first), -1, dtype=np.int64)
    pos[m["_k"].to_numpy(dtype=np.int64)] = np.arange(len(m))
    rec = pos[key] if n else np.zeros(0, np.int64)
    out = {col: take(pd.array(m[col].to_numpy(), dtype=table[col].dtype) if len(m) else
                     pd.array([], dtype=table[col].dtype), rec) for col in cols}
    return out, rec >= 0


def product_attrs(productcode: pd.Series, productcategorie: pd.Series, datum: pd.Series,
                  producten: pd.DataFrame) -> pd.DataFrame:
    """Product attributes valid on ``datum`` (metrics.md section 0.3).

    From ``producten`` by productcode, the row valid on the date (geldig_vanaf <=
    datum <= geldig_tot, both ends inclusive, empty = open). ``productgroep``:
    the table's value, empty -> the productcode itself; a code not in the table
    (or no code) -> the record's productcategorie, with ``product_bekend`` false.
    A known code without a row valid on the date takes its nearest (latest
    starting) row.
    """
    cols = ["productgroep", "financieringsvorm", "segment", "zwaarte", "variant",
            "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent"]

    def valid(m):
        d = m["_d"]
        lo = m["geldig_vanaf"].isna() | (m["geldig_vanaf"] <= d)
        hi = m["geldig_tot"].isna() | (d <= m["geldig_tot"])
        return (lo & hi).to_numpy()

    prod = schema.conform(producten, "producten")
    for c in ("financieringsvorm", "zwaarte", "variant"):
        prod[c] = prod[c].str.strip().str.lower().replace("", pd.NA).astype(schema.S)
    c, u = codes_of(productcode)
    attrs, known = _lookup_by_code_date(c, u, datum, prod, "productcode", valid, "geldig_vanaf", cols)
    out = pd.DataFrame(attrs)
    code = pd.Series(productcode).reset_index(drop=True).astype(schema.S)
    cat = pd.Series(productcategorie).reset_index(drop=True).astype(schema.S)
    grp = out["productgroep"]
    grp = grp.where(grp.fillna("") != "", code)
    out["productgroep"] = grp.where(pd.Series(known), cat).astype(schema.S)
    out["product_bekend"] = pd.array(known, dtype=schema.B)
    return out


def aanbieder_attrs(agb: pd.Series, datum: pd.Series | None, aanbieders: pd.DataFrame) -> pd.DataFrame:
    """Aanbieder attributes: ``aanbieder_type``, ``aanbieder_bekend`` and, with a
    date, ``gecontracteerd`` (contracted on that date).

    Contracted: a row of ``aanbieders`` for the AGB with gecontracteerd_vanaf <=
    datum <= gecontracteerd_tot (an empty end is open; both empty = never
    contracted, niet-gecontracteerd aanbod). An AGB not in the table is NGA and
    ``regulier`` (data-contract 1.3). Several rows per AGB (contract periods)
    are allowed; the type is taken from the first.
    """
    a = schema.conform(aanbieders, "aanbieders")
    typ = a.drop_duplicates("agb").set_index("agb")["type"].str.strip().str.lower()
    typ = typ.where(typ.isin(["micro", "regulier"]), "regulier").fillna("regulier")
    c, u = codes_of(agb)
    u_known = pd.Series(u.isin(typ.index) if len(u) else np.zeros(0, bool))
    u_type = pd.Series(u).map(typ).fillna("regulier") if len(u) else pd.Series([], dtype=object)
    out = pd.DataFrame({
        "aanbieder_type": take(pd.array(u_type.to_numpy(dtype=object), dtype=schema.S), c).fillna("regulier"),
        "aanbieder_bekend": pd.array(np.append(u_known.to_numpy(dtype=bool), False)[c], dtype=schema.B),
    })
    if datum is not None:
        def valid(m):
            d = m["_d"]
            vanaf, tot = m["gecontracteerd_vanaf"], m["gecontracteerd_tot"]
            never = vanaf.isna() & tot.isna()
            ok = (vanaf.isna() | (vanaf <= d)) & (tot.isna() | (d <= tot))
            return (ok & ~never).to_numpy()

        # a row valid on the date sorts first; it is re-checked here
        res, _ = _lookup_by_code_date(c, u, datum, a, "agb", valid, "gecontracteerd_vanaf",
                                      ["gecontracteerd_vanaf", "gecontracteerd_tot"])
        d = np.asarray(pd.Series(datum).to_numpy(dtype="datetime64[ns]"))
        vanaf = np.asarray(res["gecontracteerd_vanaf"], dtype="datetime64[ns]")
        tot = np.asarray(res["gecontracteerd_tot"], dtype="datetime64[ns]")
        ok = (~np.isnat(vanaf) | ~np.isnat(tot)) & (np.isnat(vanaf) | (vanaf <= d)) & (np.isnat(tot) | (d <= tot))
        out["gecontracteerd"] = pd.array(ok, dtype=schema.B)
    return out


def regio_lookup(gemeentecode: pd.Series, gemeenten: pd.DataFrame) -> pd.DataFrame:
    """``regio`` (regio_naam) and ``gemeentenaam`` per gemeentecode; an unknown code
    is grouped under its own code (data-contract 1.3)."""
    g = gemeenten.drop_duplicates("gemeentecode").set_index("gemeentecode")
    c, u = codes_of(gemeentecode)
    us = pd.Series(u, dtype=schema.S)
    reg = us.map(g["regio_naam"]).fillna(us)
    naam = us.map(g["gemeentenaam"]).fillna(us)
    return pd.DataFrame({
        "regio": take(pd.array(reg.to_numpy(dtype=object), dtype=schema.S), c),
        "gemeentenaam": take(pd.array(naam.to_numpy(dtype=object), dtype=schema.S), c),
    })


class _Telling:
    def __init__(self):
        self.rows = []

    def add(self, tabel, regel, voor, verwijderd, omschrijving):
        self.rows.append({"stap": len([r for r in self.rows if r["tabel"] == tabel]) + 1,
                          "tabel": tabel, "regel": regel, "voor": int(voor),
                          "verwijderd": int(verwijderd), "omschrijving": omschrijving})

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(TELLING_COLUMNS))
        return df.astype(TELLING_COLUMNS)


# --------------------------------------------------------------------------- toewijzingen

def _clean_toewijzingen(tw: pd.DataFrame, params: Params, tel: _Telling):
    peil = params.peil_ts
    tw = schema.conform(tw, "toewijzingen", extra=True)
    n0 = len(tw)
    # 1. latest version (stable: on equal stamps the last read wins)
    stamp = tw["versie_ts"].to_numpy(dtype="datetime64[ns]").astype("int64")  # NaT sorts first
    order = np.lexsort((np.arange(n0), stamp, combine_keys([_str_or_empty(tw["toewijzing_nr"])])))
    tw = tw.iloc[order]
    tnr = _str_or_empty(tw["toewijzing_nr"])
    last = np.ones(len(tw), dtype=bool)
    last[:-1] = tnr[1:] != tnr[:-1]
    tw = tw[last].reset_index(drop=True)
    tel.add("toewijzingen", "oudere_versie", n0, n0 - len(tw),
            "oudere versies van een toewijzing (alleen de laatste versie telt)")
    # 2. RedenWijziging 13
    rw13 = tw["reden_wijziging"].fillna("").str.strip().isin(["13"]).to_numpy(dtype=bool)
    ingetrokken = tw[rw13].reset_index(drop=True)
    tel.add("toewijzingen", "reden_wijziging_13", len(tw), rw13.sum(),
            "laatste versie ingetrokken (RedenWijziging 13, verwijderd)")
    tw = tw[~rw13].reset_index(drop=True)
    # 3. einddatum < ingangsdatum
    bad = (tw["einddatum"].notna() & (tw["einddatum"] < tw["ingangsdatum"])).to_numpy(dtype=bool)
    tel.add("toewijzingen", "einde_voor_ingang", len(tw), bad.sum(), "einddatum vóór ingangsdatum")
    tw = tw[~bad].reset_index(drop=True)
    # 4. ingangsdatum before the peildatum
    keep = (tw["ingangsdatum"] < peil).to_numpy(dtype=bool)
    tel.add("toewijzingen", "ingang_na_peildatum", len(tw), (~keep).sum(),
            "ingangsdatum op of na de peildatum (of leeg)")
    tw = tw[keep].reset_index(drop=True)
    # 5. age on the ingangsdatum
    age = leeftijd(tw["geboortedatum"], tw["ingangsdatum"]).to_numpy()
    old = np.nan_to_num(age, nan=-1) > params.max_leeftijd
    tel.add("toewijzingen", "leeftijd", len(tw), old.sum(),
            f"cliënt ouder dan {params.max_leeftijd} jaar op de ingangsdatum")
    tw = tw[~old].reset_index(drop=True)
    # 6. excluded aanbieders
    excl = tw["agb"].isin(list(params.exclude_agb)).to_numpy(dtype=bool)
    tel.add("toewijzingen", "exclude_agb", len(tw), excl.sum(), "aanbieder uitgesloten (exclude_agb)")
    tw = tw[~excl].reset_index(drop=True)
    return tw, ingetrokken


def _enrich_toewijzingen(tw: pd.DataFrame, params: Params, ds_like) -> pd.DataFrame:
    peil_1 = params.peil_ts - pd.Timedelta(days=1)
    tw = tw.copy()
    eind = tw["einddatum"]
    tw["einddatum_eff"] = eind.where(eind.notna() & (eind < params.peil_ts), peil_1).astype(schema.D)
    reg = regio_lookup(tw["gemeentecode"], ds_like["gemeenten"])
    tw["regio"] = reg["regio"].array
    tw["gemeentenaam"] = reg["gemeentenaam"].array
    pa = product_attrs(tw["productcode"], tw["productcategorie"], tw["ingangsdatum"], ds_like["producten"])
    for c in PRODUCT_ATTRS:
        tw[c] = pa[c].array
    aa = aanbieder_attrs(tw["agb"], None, ds_like["aanbieders"])
    tw["aanbieder_type"] = aa["aanbieder_type"].array
    tw["aanbieder_bekend"] = aa["aanbieder_bekend"].array
    return tw


# --------------------------------------------------------------------------- declaraties

DECL_COLUMNS = ["toewijzing_nr", "client_id", "agb", "gemeentecode", "productcode", "productcategorie",
                "periode_begin", "periode_eind", "eenheid", "tarief_cent", "volume", "bedrag_cent",
                "credit_zonder_debet"]


def net_declaraties(dec: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Net declaration lines into items over debet and credit (metrics.md 0.2).

    Key (toewijzing_nr, productcode, periode_begin, periode_eind), or for lines
    without a ToewijzingNummer (client_id, agb, productcode, periode_begin,
    periode_eind). ``bedrag_cent`` and ``volume`` are the signed sums (debet minus
    credit); the item's other fields come from its first debet line (or first
    line when there is none). Returns the items (all of them, including net 0)
    with ``credit_zonder_debet`` (no debet line, net not 0) and a bool array
    ``had_credit`` per item.
    """
    dec = dec.reset_index(drop=True)
    n = len(dec)
    tnr = _str_or_empty(dec["toewijzing_nr"])
    has_nr = tnr != ""
    client = _str_or_empty(dec["client_id"])
    agb = _str_or_empty(dec["agb"])
    key = combine_keys([
        tnr,
        np.where(has_nr, "", client),
        np.where(has_nr, "", agb),
        _str_or_empty(dec["productcode"]),
        _date_days(dec["periode_begin"]),
        _date_days(dec["periode_eind"]),
    ]) if n else np.zeros(0, np.int64)
    amount = dec["bedrag_cent_signed"].fillna(0).to_numpy(dtype=np.int64)
    vol = dec["volume_signed"].fillna(0).to_numpy(dtype=np.int64)
    is_credit = amount < 0
    is_debet = amount > 0
    order = np.lexsort((np.arange(n), ~is_debet, key))
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]) if n else np.zeros(0, np.int64)
    first = order[starts]
    items = dec.iloc[first].reset_index(drop=True)
    items["toewijzing_nr"] = items["toewijzing_nr"].replace("", pd.NA).astype(schema.S)
    if n:
        bedrag = np.add.reduceat(amount[order], starts)
        volume = np.add.reduceat(vol[order], starts)
        n_debet = np.add.reduceat(is_debet[order].astype(np.int64), starts)
        n_credit = np.add.reduceat(is_credit[order].astype(np.int64), starts)
    else:
        bedrag = volume = n_debet = n_credit = np.zeros(0, np.int64)
    items["bedrag_cent"] = pd.array(bedrag, dtype=schema.I)
    items["volume"] = pd.array(volume, dtype=schema.I)
    items["credit_zonder_debet"] = pd.array((n_debet == 0) & (bedrag != 0), dtype=schema.B)
    return items[DECL_COLUMNS], n_credit > 0


def _clean_declaraties(dec: pd.DataFrame, geb_per_client: pd.Series, params: Params, tel: _Telling):
    peil = params.peil_ts
    dec = schema.conform(dec, "declaraties")
    n0 = len(dec)
    keep = (dec["periode_begin"] < peil).to_numpy(dtype=bool)
    tel.add("declaraties", "periode_na_peildatum", n0, (~keep).sum(),
            "declaratieregel met periode_begin op of na de peildatum (of leeg)")
    dec = dec[keep]
    n1 = len(dec)
    items, had_credit = net_declaraties(dec)
    tel.add("declaraties", "saldering", n1, n1 - len(items),
            "regels samengevoegd tot één post per product en periode (debet min credit)")
    zero = (items["bedrag_cent"] == 0).to_numpy(dtype=bool)
    z1 = zero & had_credit
    tel.add("declaraties", "netto_nul_creditering", len(items), z1.sum(),
            "posten met netto bedrag 0 doordat een credit een debet opheft")
    items = items[~z1].reset_index(drop=True)
    zero = zero[~z1]
    tel.add("declaraties", "netto_nul_bedrag", len(items), zero.sum(), "posten met bedrag 0")
    items = items[~zero].reset_index(drop=True)
    geb = items["client_id"].map(geb_per_client).astype(schema.D)
    age = leeftijd(geb, items["periode_begin"]).to_numpy()
    old = np.nan_to_num(age, nan=-1) > params.max_leeftijd
    tel.add("declaraties", "leeftijd", len(items), old.sum(),
            f"cliënt ouder dan {params.max_leeftijd} jaar op periode_begin")
    items = items[~old].reset_index(drop=True)
    geb_unknown = int(geb[~old].isna().sum())
    geb_unknown_cl = int(items["client_id"][geb[~old].isna().to_numpy()].nunique())
    excl = items["agb"].isin(list(params.exclude_agb)).to_numpy(dtype=bool)
    tel.add("declaraties", "exclude_agb", len(items), excl.sum(), "aanbieder uitgesloten (exclude_agb)")
    items = items[~excl].reset_index(drop=True)
    return items, (geb_unknown, geb_unknown_cl)


# --------------------------------------------------------------------------- clean

def clean(ds: Dataset, params: Params) -> Cleaned:
    """Apply metrics.md section 0 to a dataset; every rule counted in ``telling``.

    See the module docstring for the rules and docs/architecture.md for the
    columns of the result.
    """
    tel = _Telling()
    gemeenten = schema.conform(ds.gemeenten, "gemeenten") if len(ds.gemeenten) else \
        schema.conform(config.demo_gemeenten(), "gemeenten")
    producten = schema.conform(ds.producten, "producten")
    aanbieders = schema.conform(ds.aanbieders, "aanbieders")
    ref = {"gemeenten": gemeenten, "producten": producten, "aanbieders": aanbieders}

    raw_tw = schema.conform(ds.toewijzingen, "toewijzingen")
    tw, ingetrokken = _clean_toewijzingen(raw_tw, params, tel)
    tw = _enrich_toewijzingen(tw, params, ref)
    ingetrokken = _enrich_toewijzingen(ingetrokken, params, ref)

    # birth date per client from all toewijzing versions (metrics.md section 0)
    gb = raw_tw[["client_id", "geboortedatum"]].dropna()
    geb_per_client = gb.drop_duplicates("client_id", keep="last").set_index("client_id")["geboortedatum"]

    dec, (geb_unknown_dec, geb_unknown_dec_cl) = _clean_declaraties(ds.declaraties, geb_per_client, params, tel)
    dec["toewijzing_bekend"] = pd.array(dec["toewijzing_nr"].isin(tw["toewijzing_nr"]).to_numpy(dtype=bool),
                                        dtype=schema.B)
    reg = regio_lookup(dec["gemeentecode"], gemeenten)
    dec["regio"] = reg["regio"].array
    dec["gemeentenaam"] = reg["gemeentenaam"].array
    pa = product_attrs(dec["productcode"], dec["productcategorie"], dec["periode_begin"], producten)
    for c in PRODUCT_ATTRS:
        # the item keeps its declared tarief; the product's tarief is product_tarief_cent
        dec["product_tarief_cent" if c == "tarief_cent" else c] = pa[c].array
    aa = aanbieder_attrs(dec["agb"], dec["periode_begin"], aanbieders)
    for c in ("aanbieder_type", "aanbieder_bekend", "gecontracteerd"):
        dec[c] = aa[c].array
    dec["maand"] = dec["periode_begin"].dt.to_period("M").dt.start_time.astype(schema.D)

    start_stop = schema.conform(ds.start_stop, "start_stop")
    start_stop["regio"] = regio_lookup(start_stop["gemeentecode"], gemeenten)["regio"].array
    verzoeken = schema.conform(ds.verzoeken, "verzoeken")
    verzoeken["regio"] = regio_lookup(verzoeken["gemeentecode"], gemeenten)["regio"].array

    signalen = _signalen(tw, dec, gemeenten, (geb_unknown_dec, geb_unknown_dec_cl))
    # unknown gemeenten are grouped under their own code: add them to the table
    onb = signalen["onbekende_gemeenten"]["gemeentecode"].dropna().unique()
    if len(onb):
        extra = pd.DataFrame({"gemeentecode": onb, "gemeentenaam": onb, "regio_code": onb, "regio_naam": onb})
        gemeenten = pd.concat([gemeenten, extra.astype(schema.S)], ignore_index=True)

    return Cleaned(
        toewijzingen=tw, declaraties=dec, start_stop=start_stop, verzoeken=verzoeken,
        producten=producten, aanbieders=aanbieders, gemeenten=gemeenten,
        plekken=schema.conform(ds.plekken, "plekken"),
        budgetplafonds=schema.conform(ds.budgetplafonds, "budgetplafonds"),
        bevolking=schema.conform(ds.bevolking, "bevolking"),
        telling=tel.frame(), signalen=signalen, params=params,
        toewijzingen_ingetrokken=ingetrokken, dataset=ds,
    )


def _signalen(tw, dec, gemeenten, geb_unknown_dec) -> dict:
    """Data-quality lists (no client ids in them)."""
    item_cols = ["toewijzing_nr", "agb", "gemeentecode", "regio", "productcode", "periode_begin",
                 "periode_eind", "volume", "bedrag_cent"]

    def per_code(col, mask_tw, mask_dec, extra=()):
        parts = []
        for tabel, df, mask in (("toewijzingen", tw, mask_tw), ("declaraties", dec, mask_dec)):
            sub = df[np.asarray(mask, dtype=bool)]
            if len(sub) == 0:
                continue
            g = sub.assign(_n=1, _b=sub["bedrag_cent"] if "bedrag_cent" in sub else 0)
            agg = g.groupby([col, *extra], dropna=False, sort=True).agg(
                aantal=("_n", "sum"), bedrag_cent=("_b", "sum")).reset_index()
            agg.insert(0, "tabel", tabel)
            parts.append(agg)
        cols = ["tabel", col, *extra, "aantal", "bedrag_cent"]
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=schema.I if c in ("aantal", "bedrag_cent") else schema.S)
                                 for c in cols})
        out = pd.concat(parts, ignore_index=True)[cols]
        return out.astype({c: schema.I if c in ("aantal", "bedrag_cent") else schema.S for c in cols})

    def unknown_code(df):
        return (~df["product_bekend"].fillna(False).astype(bool)) & (df["productcode"].fillna("") != "")

    known_gem = set(gemeenten["gemeentecode"].dropna())
    geb_tw = tw["geboortedatum"].isna()
    return {
        "onbekende_producten": per_code("productcode", unknown_code(tw), unknown_code(dec), ("productcategorie",)),
        "onbekende_aanbieders": per_code("agb", ~tw["aanbieder_bekend"].astype(bool),
                                         ~dec["aanbieder_bekend"].astype(bool)),
        "onbekende_gemeenten": per_code("gemeentecode", ~tw["gemeentecode"].isin(known_gem),
                                        ~dec["gemeentecode"].isin(known_gem)),
        "zonder_toewijzing": dec.loc[~dec["toewijzing_bekend"].astype(bool), item_cols].reset_index(drop=True),
        "credit_zonder_debet": dec.loc[dec["credit_zonder_debet"].astype(bool), item_cols].reset_index(drop=True),
        "geboortedatum_onbekend": pd.DataFrame({
            "tabel": pd.Series(["toewijzingen", "declaraties"], dtype=schema.S),
            "aantal": pd.Series([int(geb_tw.sum()), geb_unknown_dec[0]], dtype=schema.I),
            "clienten": pd.Series([int(tw.loc[geb_tw, "client_id"].nunique()), geb_unknown_dec[1]], dtype=schema.I),
        }),
    }
