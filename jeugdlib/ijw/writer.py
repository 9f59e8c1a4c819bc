"""Write iJw 3.2 XML messages (JW301, JW305, JW307, JW315, JW323).

Two ways in, one code path:

* **One message** from plain Python data: :func:`jw301`, :func:`jw305`,
  :func:`jw307`, :func:`jw315`, :func:`jw323`. Each takes keyword arguments for the
  header and the client and a list of dicts (or a DataFrame) for the products or
  Prestaties, and returns the XML document as ``bytes`` (UTF-8).
* **Many messages** from a DataFrame: :func:`render` (``render("JW323", df)``)
  builds every message of a frame at once with vectorised Arrow string kernels
  (no Python loop per record) and returns ``[(bericht, bytes), ...]``, one item
  per distinct value of the column ``bericht``. :func:`write_messages` writes such
  items to disk. The demo generator uses this path.

The element order and required elements follow the official XSDs
(``../shared/ijw/xsd``): namespace prefixes ``jwNNN:`` and ``ijw:`` as in the
standard's example messages, XsdVersie 1.0.0, StatusAanlevering 1 for JW305/JW307.
Amounts are integer eurocent. Client names, addresses and free text are not
needed by the project: the writer puts a fixed placeholder surname (or the
``achternaam`` column when given) and a minimal Contactgegevens (JW301 requires
one Contact, whose only required element is ``Soort``).

Frame columns (one row per product / Prestatie; message-level and client-level
columns are taken from the first row of each message):

======= =====================================================================
common  ``bericht`` (message key; rows with the same key form one message),
        ``identificatie`` (BerichtIdentificatie, max 12 characters),
        ``dagtekening`` (date), ``gemeentecode`` (4 digits), ``agb`` (8 digits)
client  ``bsn``, ``geboortedatum``, ``geslacht`` (0/1/2), optional ``achternaam``
JW301   ``toewijzing_nr``, ``productcategorie``, optional ``productcode``,
        ``toewijzingsdatum`` + ``toewijzingstijd`` ("HH:MM:SS") or ``versie_ts``,
        ``ingangsdatum``, optional ``einddatum``, ``reden_wijziging``,
        ``volume`` + ``eenheid`` + ``frequentie`` (Omvang) and/or ``budget_cent``
JW305   ``toewijzing_nr``, ``productcategorie``, optional ``productcode``,
        optional ``ingangsdatum`` (ToewijzingIngangsdatum), ``begindatum``
JW307   as JW305 plus ``reden_beeindiging`` (JZ588) and ``einddatum``
JW315   optional ``referentie`` (ReferentieAanbieder; default ``V<bericht row>``),
        ``productcategorie``, optional ``productcode``, ``ingangsdatum``
        (ToewijzingIngangsdatum), optional ``einddatum``, optional Omvang
        (``volume``, ``eenheid``, ``frequentie``) and ``budget_cent``,
        ``verwijzer_type`` (COD327), optional ``verwijzer_naam``, ``verwijzer_agb``
JW323   ``declaratie_nr`` (alphanumeric, max 12), ``declaratie_begin``,
        ``declaratie_eind`` (message level); ``bsn`` (client); per Prestatie
        ``referentie_nr``, optional ``vorig_referentie_nr``, ``toewijzing_nr``,
        ``productcategorie``, ``productcode``, ``periode_begin``,
        ``periode_eind``, ``volume`` (GeleverdVolume, >= 0), ``eenheid``,
        optional ``tarief_cent``, and either ``bedrag_cent`` (>= 0) with
        ``debet_credit`` (D/C) or a signed ``bedrag_cent_signed``
        (credit negative). TotaalIngediendBedrag is computed.
======= =====================================================================

Optional columns may be absent or hold nulls; a null leaves the element out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import config

__all__ = [
    "BERICHTCODE", "jw301", "jw305", "jw307", "jw315", "jw323", "render", "write_messages",
]

#: BerichtCode per message type (fixed by the XSDs).
BERICHTCODE = {"JW301": "436", "JW305": "438", "JW307": "440", "JW315": "446", "JW323": "490", "JW325": "491"}

#: Sender/receiver direction: True when the gemeente sends (JW301).
_GEMEENTE_STUURT = {"JW301": True, "JW305": False, "JW307": False, "JW315": False, "JW323": False, "JW325": True}

_L = pa.large_string()
_DEFAULT_ACHTERNAAM = "Onbekend"


# ---------------------------------------------------------------- string kernels
def _sc(s: str) -> pa.Scalar:
    return pa.scalar(s, _L)


_EMPTY = _sc("")


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of arrays and literal strings (null propagates)."""
    args = [(_sc(p) if isinstance(p, str) else p) for p in parts]
    return pc.binary_join_element_wise(*args, _EMPTY)


def _el(tag: str, arr: pa.Array) -> pa.Array:
    return _join(f"<{tag}>", arr, f"</{tag}>")


def _opt(tag: str, arr: pa.Array) -> pa.Array:
    """``<tag>value</tag>`` where the value is present, else ''."""
    return pc.fill_null(_el(tag, arr), _EMPTY)


def _escape(arr: pa.Array) -> pa.Array:
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, a, b)
    return arr


def _text(s: pd.Series) -> pa.Array:
    """A column as large_string (nulls kept). Numbers are written without decimals."""
    if pd.api.types.is_integer_dtype(s.dtype) or str(s.dtype).startswith("int"):
        arr = pa.array(s, from_pandas=True)
        return pc.cast(arr, _L)
    if pd.api.types.is_float_dtype(s.dtype):
        v = pd.array(s, dtype="Int64")
        return pc.cast(pa.array(v, from_pandas=True), _L)
    arr = pa.array(s.astype("object").where(s.notna(), None), type=_L, from_pandas=True)
    return arr


def _date(s: pd.Series) -> pa.Array:
    """Dates (datetime64, date objects or ISO strings) as 'YYYY-MM-DD'; NaT -> null."""
    d = pd.to_datetime(s, errors="raise")
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    v = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    txt = np.datetime_as_string(v, unit="D")
    mask = np.isnat(v)
    return pa.array(txt, type=_L, mask=mask)


def _time(s: pd.Series) -> pa.Array:
    d = pd.to_datetime(s, errors="raise")
    v = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]")
    txt = np.datetime_as_string(v, unit="s")  # YYYY-MM-DDTHH:MM:SS
    return pc.utf8_slice_codeunits(pa.array(txt, type=_L), 11, 19)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype="object")


def _group_concat(frag: pa.Array, starts: np.ndarray) -> pa.Array:
    """Concatenate ``frag`` within groups that start at row indexes ``starts``."""
    offsets = np.append(starts, len(frag)).astype(np.int64)
    lst = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), frag)
    return pc.binary_join(lst, _EMPTY)


def _starts(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Row indexes where any of ``keys`` changes (rows already grouped)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


# ---------------------------------------------------------------- message parts
def _release(first: pd.DataFrame) -> pa.Array:
    """iJw release per message (column ``release``: "3.0", "3.1" or "3.2"; default 3.2)."""
    rel = _col(first, "release")
    rel = rel.where(rel.notna(), "3.2") if len(rel) else rel
    bad = set(rel.astype(str)) - set(config.RELEASES)
    if bad:
        raise ValueError(f"unknown iJw release {sorted(bad)}; expected one of {config.RELEASES}")
    return _text(rel.astype("object"))


def _root(bericht: str, first: pd.DataFrame) -> pa.Array:
    """XML declaration and root start tag per message, with the namespaces of its release."""
    p = bericht.lower()
    ns = pc.replace_substring(_release(first), ".", "_")
    return _join('<?xml version="1.0" encoding="UTF-8"?>\n<', f'{p}:Bericht xmlns:ijw="http://www.istandaarden.nl/ijw/',
                 ns, f'/basisschema/schema" xmlns:{p}="http://www.istandaarden.nl/ijw/', ns,
                 f'/{p}/schema">\n')


def _header(bericht: str, first: pd.DataFrame) -> pa.Array:
    """<Header> per message from message-level columns of the first rows."""
    p = bericht.lower()
    if _GEMEENTE_STUURT[bericht]:
        afz, ontv = _text(first["gemeentecode"]), _text(first["agb"])
    else:
        afz, ontv = _text(first["agb"]), _text(first["gemeentecode"])
    sub = pc.utf8_slice_codeunits(_release(first), 2, 3)
    return _join(
        f"<{p}:Header><{p}:BerichtCode>{BERICHTCODE[bericht]}</{p}:BerichtCode>"
        f"<{p}:BerichtVersie>3</{p}:BerichtVersie><{p}:BerichtSubversie>", sub, f"</{p}:BerichtSubversie>"
        f"<{p}:Afzender>", afz, f"</{p}:Afzender><{p}:Ontvanger>", ontv, f"</{p}:Ontvanger>"
        f"<{p}:BerichtIdentificatie><ijw:Identificatie>", _text(first["identificatie"]),
        "</ijw:Identificatie><ijw:Dagtekening>", _date(first["dagtekening"]),
        f"</ijw:Dagtekening></{p}:BerichtIdentificatie>"
        f"<{p}:XsdVersie><ijw:BasisschemaXsdVersie>1.0.0</ijw:BasisschemaXsdVersie>"
        f"<ijw:BerichtXsdVersie>1.0.0</ijw:BerichtXsdVersie></{p}:XsdVersie>",
        _EMPTY if bericht != "JW325" else _jw325_header(first),
        f"</{p}:Header>\n",
    )


def _naam(p: str, first: pd.DataFrame, volledig: bool) -> pa.Array:
    ach = _col(first, "achternaam")
    ach = ach.where(ach.notna(), _DEFAULT_ACHTERNAAM) if len(ach) else ach
    a = _escape(_text(ach.astype("object")))
    tail = "<ijw:NaamGebruik>1</ijw:NaamGebruik>" if volledig else ""
    return _join(f"<{p}:Naam><ijw:Geslachtsnaam><ijw:Achternaam>", a,
                 f"</ijw:Achternaam></ijw:Geslachtsnaam>{tail}</{p}:Naam>")


def _client_head(p: str, first: pd.DataFrame, volledig: bool) -> pa.Array:
    return _join(
        f"<{p}:Client><{p}:Bsn>", _text(first["bsn"]), f"</{p}:Bsn><{p}:Geboortedatum><ijw:Datum>",
        _date(first["geboortedatum"]), f"</ijw:Datum></{p}:Geboortedatum><{p}:Geslacht>",
        _text(first["geslacht"]), f"</{p}:Geslacht>", _naam(p, first, volledig),
    )


def _product(p: str, df: pd.DataFrame, tag: str = "Product") -> pa.Array:
    return _join(f"<{p}:{tag}><ijw:Categorie>", _text(df["productcategorie"]), "</ijw:Categorie>",
                 _opt("ijw:Code", _text(_col(df, "productcode"))), f"</{p}:{tag}>")


def _omvang(p: str, df: pd.DataFrame) -> pa.Array:
    vol = _text(_col(df, "volume"))
    inner = _join("<ijw:Volume>", vol, "</ijw:Volume><ijw:Eenheid>", _text(_col(df, "eenheid")),
                  "</ijw:Eenheid><ijw:Frequentie>", _text(_col(df, "frequentie")), "</ijw:Frequentie>")
    return pc.fill_null(_join(f"<{p}:Omvang>", inner, f"</{p}:Omvang>"), _EMPTY)


_REQUIRED = {
    "JW301": ["gemeentecode", "agb", "identificatie", "dagtekening", "bsn", "geboortedatum", "geslacht",
              "toewijzing_nr", "productcategorie", "ingangsdatum"],
    "JW305": ["gemeentecode", "agb", "identificatie", "dagtekening", "bsn", "geboortedatum", "geslacht",
              "productcategorie", "begindatum"],
    "JW307": ["gemeentecode", "agb", "identificatie", "dagtekening", "bsn", "geboortedatum", "geslacht",
              "productcategorie", "begindatum", "reden_beeindiging", "einddatum"],
    "JW315": ["gemeentecode", "agb", "identificatie", "dagtekening", "bsn", "geboortedatum", "geslacht",
              "productcategorie", "ingangsdatum", "verwijzer_type"],
    "JW323": ["gemeentecode", "agb", "identificatie", "dagtekening", "declaratie_nr", "declaratie_begin",
              "declaratie_eind", "bsn", "referentie_nr", "toewijzing_nr", "productcategorie",
              "productcode", "periode_begin", "periode_eind", "volume", "eenheid"],
}


def _check(bericht: str, df: pd.DataFrame) -> None:
    """Raise ValueError naming the first required column that is missing or has an empty value."""
    req = list(_REQUIRED[bericht])
    if bericht == "JW301":
        req += ["versie_ts"] if "versie_ts" in df.columns else ["toewijzingsdatum", "toewijzingstijd"]
    if bericht == "JW323":
        req += ["bedrag_cent", "debet_credit"] if "debet_credit" in df.columns else ["bedrag_cent_signed"]
    for c in ["bericht", *req]:
        if c not in df.columns:
            raise ValueError(f"{bericht}: column {c!r} is required")
        bad = df[c].isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{bericht}: column {c!r} is empty in row {i} (bericht {df['bericht'].iloc[i]!r})")


def _order(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group rows by ``keys`` (first appearance order, otherwise stable)."""
    if "bericht" not in df.columns:
        raise ValueError("frame needs a 'bericht' column (message key)")
    codes = []
    for k in keys:
        c, _ = pd.factorize(df[k], sort=False)
        codes.append(c)
    # order of first appearance of each message, then of each client within it
    idx = np.lexsort(tuple(reversed(codes))) if len(codes) > 1 else np.argsort(codes[0], kind="stable")
    return df.iloc[idx].reset_index(drop=True)


def _assemble(bericht: str, df: pd.DataFrame, product_frag: pa.Array, list_tag: str,
              volledig: bool, client_extra: pa.Array | None = None,
              before_list: str = "") -> list[tuple[object, bytes]]:
    """One-Client messages: header + client + <list_tag> products </list_tag>."""
    p = bericht.lower()
    starts = _starts([pd.factorize(df["bericht"])[0]])
    first = df.iloc[starts].reset_index(drop=True)
    body = _group_concat(product_frag, starts)
    head = _client_head(p, first, volledig)
    extra = client_extra if client_extra is not None else _EMPTY
    doc = _join(
        _root(bericht, first),
        _header(bericht, first), head, extra, before_list,
        f"<{p}:{list_tag}>\n", body, f"</{p}:{list_tag}></{p}:Client>\n</{p}:Bericht>\n",
    )
    keys = first["bericht"].tolist()
    return list(zip(keys, (s.encode("utf-8") for s in doc.to_pylist())))


# ---------------------------------------------------------------- per message type
def _render_jw301(df: pd.DataFrame) -> list[tuple[object, bytes]]:
    p = "jw301"
    df = _order(df, ["bericht"])
    _check("JW301", df)
    if "versie_ts" in df.columns:
        tdat, ttijd = _date(df["versie_ts"]), _time(df["versie_ts"])
    else:
        tdat = _date(df["toewijzingsdatum"])
        ttijd = _text(df["toewijzingstijd"].astype("object"))
    budget = _opt(f"{p}:Budget", _text(_col(df, "budget_cent")))
    frag = _join(
        f"<{p}:ToegewezenProduct><{p}:ToewijzingNummer>", _text(df["toewijzing_nr"]),
        f"</{p}:ToewijzingNummer>", _product(p, df),
        f"<{p}:Toewijzingsdatum>", tdat, f"</{p}:Toewijzingsdatum><{p}:Toewijzingstijd>", ttijd,
        f"</{p}:Toewijzingstijd><{p}:Ingangsdatum>", _date(df["ingangsdatum"]), f"</{p}:Ingangsdatum>",
        _opt(f"{p}:Einddatum", _date(_col(df, "einddatum"))),
        _opt(f"{p}:RedenWijziging", _text(_col(df, "reden_wijziging"))),
        _omvang(p, df), budget, f"</{p}:ToegewezenProduct>\n",
    )
    contact = (f"<{p}:Contactgegevens><{p}:Contact><{p}:Soort>01</{p}:Soort></{p}:Contact>"
               f"</{p}:Contactgegevens>")
    return _assemble("JW301", df, frag, "ToegewezenProducten", True, before_list=contact)


def _render_jw30x(bericht: str, df: pd.DataFrame) -> list[tuple[object, bytes]]:
    p = bericht.lower()
    df = _order(df, ["bericht"])
    _check(bericht, df)
    tag = "StartProduct" if bericht == "JW305" else "StopProduct"
    parts = [
        f"<{p}:{tag}>", _opt(f"{p}:ToewijzingNummer", _text(_col(df, "toewijzing_nr"))),
        _product(p, df), _opt(f"{p}:ToewijzingIngangsdatum", _date(_col(df, "ingangsdatum"))),
        f"<{p}:Begindatum>", _date(df["begindatum"]), f"</{p}:Begindatum>",
    ]
    if bericht == "JW307":
        parts += [f"<{p}:RedenBeeindiging>", _text(df["reden_beeindiging"]),
                  f"</{p}:RedenBeeindiging><{p}:Einddatum>", _date(df["einddatum"]),
                  f"</{p}:Einddatum>"]
    status = _col(df, "status_aanlevering")
    status = status.where(status.notna(), "1") if len(status) else status
    parts += [f"<{p}:StatusAanlevering>", _text(status.astype("object")), f"</{p}:StatusAanlevering></{p}:{tag}>\n"]
    frag = _join(*parts)
    return _assemble(bericht, df, frag, f"{tag}en", False)


def _render_jw315(df: pd.DataFrame) -> list[tuple[object, bytes]]:
    p = "jw315"
    df = _order(df, ["bericht"])
    _check("JW315", df)
    ref = _col(df, "referentie")
    if ref.isna().all():
        ref = pd.Series([f"V{i + 1}" for i in range(len(df))], index=df.index)
    frag = _join(
        f"<{p}:AangevraagdProduct><{p}:ReferentieAanbieder>", _escape(_text(ref.astype("object"))),
        f"</{p}:ReferentieAanbieder>", _product(p, df),
        f"<{p}:ToewijzingIngangsdatum>", _date(df["ingangsdatum"]), f"</{p}:ToewijzingIngangsdatum>",
        _opt(f"{p}:ToewijzingEinddatum", _date(_col(df, "einddatum"))),
        _omvang(p, df), _opt(f"{p}:Budget", _text(_col(df, "budget_cent"))),
        f"<{p}:Verwijzer><ijw:Type>", _text(df["verwijzer_type"]), "</ijw:Type>",
        _opt("ijw:Naam", _escape(_text(_col(df, "verwijzer_naam").astype("object")))),
        _opt("ijw:ZorgverlenerCode", _text(_col(df, "verwijzer_agb").astype("object"))),
        f"</{p}:Verwijzer></{p}:AangevraagdProduct>\n",
    )
    return _assemble("JW315", df, frag, "AangevraagdeProducten", False)


def _render_jw323(df: pd.DataFrame) -> list[tuple[object, bytes]]:
    p = "jw323"
    df = _order(df, ["bericht", "bsn"])
    _check("JW323", df)
    if "debet_credit" in df.columns:
        dc = df["debet_credit"].astype("object").to_numpy()
        amount = df["bedrag_cent"].to_numpy(dtype=np.int64)
        signed = np.where(dc == "C", -amount, amount)
    else:
        signed = df["bedrag_cent_signed"].to_numpy(dtype=np.int64)
        dc = np.where(signed < 0, "C", "D").astype(object)
        amount = np.abs(signed)
    dc_arr = pa.array(dc, type=_L)
    frag = _join(
        f"<{p}:Prestatie><{p}:ProductReferentie><ijw:ReferentieNummer>", _text(df["referentie_nr"]),
        "</ijw:ReferentieNummer>",
        _opt("ijw:VorigReferentieNummer", _text(_col(df, "vorig_referentie_nr").astype("object"))),
        f"</{p}:ProductReferentie><{p}:ToewijzingNummer>", _text(df["toewijzing_nr"]),
        f"</{p}:ToewijzingNummer><{p}:ProductCategorie>", _text(df["productcategorie"]),
        f"</{p}:ProductCategorie><{p}:ProductCode>", _text(df["productcode"]),
        f"</{p}:ProductCode><{p}:ProductPeriode><ijw:Begindatum>", _date(df["periode_begin"]),
        "</ijw:Begindatum><ijw:Einddatum>", _date(df["periode_eind"]),
        f"</ijw:Einddatum></{p}:ProductPeriode><{p}:GeleverdVolume>", _text(df["volume"]),
        f"</{p}:GeleverdVolume><{p}:Eenheid>", _text(df["eenheid"]), f"</{p}:Eenheid>",
        _opt(f"{p}:ProductTarief", _text(_col(df, "tarief_cent"))),
        f"<{p}:IngediendBedrag><ijw:Bedrag>", pc.cast(pa.array(amount), _L),
        "</ijw:Bedrag><ijw:DebetCredit>", dc_arr,
        f"</ijw:DebetCredit></{p}:IngediendBedrag></{p}:Prestatie>\n",
    )
    msg_codes = pd.factorize(df["bericht"])[0]
    bsn_codes = pd.factorize(df["bsn"])[0]
    c_starts = _starts([msg_codes, bsn_codes])
    clients = df.iloc[c_starts].reset_index(drop=True)
    c_body = _group_concat(frag, c_starts)
    c_frag = _join(f"<{p}:Client><{p}:Bsn>", _text(clients["bsn"]), f"</{p}:Bsn><{p}:Prestaties>\n",
                   c_body, f"</{p}:Prestaties></{p}:Client>\n")
    m_starts_rows = _starts([msg_codes])
    # message starts expressed in client index
    m_starts = np.searchsorted(c_starts, m_starts_rows)
    first = df.iloc[m_starts_rows].reset_index(drop=True)
    m_body = _group_concat(c_frag, m_starts)
    totals = np.add.reduceat(signed, m_starts_rows) if len(signed) else np.zeros(0, np.int64)
    tot_dc = pa.array(np.where(totals < 0, "C", "D"), type=_L)
    tot_amt = pc.cast(pa.array(np.abs(totals)), _L)
    decl = _join(
        f"<{p}:Declaratie><{p}:DeclaratieNummer>", _text(first["declaratie_nr"]),
        f"</{p}:DeclaratieNummer><{p}:DeclaratiePeriode><ijw:Begindatum>", _date(first["declaratie_begin"]),
        "</ijw:Begindatum><ijw:Einddatum>", _date(first["declaratie_eind"]),
        f"</ijw:Einddatum></{p}:DeclaratiePeriode><{p}:DeclaratieDagtekening>",
        _date(first["declaratiedatum"] if "declaratiedatum" in first.columns else first["dagtekening"]),
        f"</{p}:DeclaratieDagtekening><{p}:TotaalIngediendBedrag><ijw:TotaalBedrag>", tot_amt,
        "</ijw:TotaalBedrag><ijw:DebetCredit>", tot_dc,
        f"</ijw:DebetCredit></{p}:TotaalIngediendBedrag><{p}:Clienten>\n",
    )
    doc = _join(
        _root("JW323", first),
        _header("JW323", first), decl, m_body, f"</{p}:Clienten></{p}:Declaratie>\n</{p}:Bericht>\n",
    )
    keys = first["bericht"].tolist()
    return list(zip(keys, (s.encode("utf-8") for s in doc.to_pylist())))


def _codes(p: str, codes: pa.Array) -> pa.Array:
    """``<RetourCodes>`` with one ``<RetourCode>`` per code of a "a,b" string."""
    inner = pc.replace_substring(codes, ",", f"</{p}:RetourCode><{p}:RetourCode>")
    return _join(f"<{p}:RetourCodes><{p}:RetourCode>", inner, f"</{p}:RetourCode></{p}:RetourCodes>")


def _header_code(first: pd.DataFrame) -> pa.Array:
    c = _col(first, "retourcode")
    return _text((c.where(c.notna(), "0200") if len(c) else c).astype("object"))


def _jw325_header(first: pd.DataFrame) -> pa.Array:
    p = "jw325"
    return _join(
        f"<{p}:DeclaratieIdentificatie><ijw:Identificatie>", _text(first["declaratie_identificatie"]),
        "</ijw:Identificatie><ijw:Dagtekening>", _date(first["declaratie_dagtekening"]),
        f"</ijw:Dagtekening></{p}:DeclaratieIdentificatie>"
        f"<{p}:XsdVersieDeclaratie><ijw:BasisschemaXsdVersie>1.0.0</ijw:BasisschemaXsdVersie>"
        f"<ijw:BerichtXsdVersie>1.0.0</ijw:BerichtXsdVersie></{p}:XsdVersieDeclaratie>",
        _codes(p, _header_code(first)),
    )


def _total(p: str, tag: str, signed: np.ndarray) -> pa.Array:
    dc = pa.array(np.where(signed < 0, "C", "D"), type=_L)
    return _join(f"<{p}:{tag}><ijw:TotaalBedrag>", pc.cast(pa.array(np.abs(signed)), _L),
                 "</ijw:TotaalBedrag><ijw:DebetCredit>", dc, f"</ijw:DebetCredit></{p}:{tag}>")


def _render_jw325(df: pd.DataFrame) -> list[tuple[object, bytes]]:
    """JW325 Declaratie-antwoord: one message per ``bericht``; its rows are the rejected
    Prestaties (a row without ``bsn``: none listed, e.g. a declaration rejected whole)."""
    p = "jw325"
    df = _order(df, ["bericht", "bsn"])
    for c in ("bericht", "gemeentecode", "agb", "identificatie", "dagtekening", "declaratie_identificatie",
              "declaratie_dagtekening", "declaratie_nr", "totaal_ingediend_cent_signed",
              "totaal_toegekend_cent_signed"):
        if c not in df.columns or df[c].isna().any():
            raise ValueError(f"JW325: column {c!r} is required and may not be empty")
    listed = df["bsn"].notna().to_numpy()
    msg_codes = pd.factorize(df["bericht"])[0]
    m_starts_rows = _starts([msg_codes])
    first = df.iloc[m_starts_rows].reset_index(drop=True)
    # Prestaties of the listed rows, grouped per Client per message
    rows = df[listed].reset_index(drop=True)
    body = pa.array([""] * len(first), type=_L)
    if len(rows):
        signed = rows["bedrag_cent_signed"].to_numpy(dtype=np.int64)
        frag = _join(
            f"<{p}:Prestatie><{p}:ProductReferentie><ijw:ReferentieNummer>", _text(rows["referentie_nr"]),
            "</ijw:ReferentieNummer>",
            _opt("ijw:VorigReferentieNummer", _text(_col(rows, "vorig_referentie_nr").astype("object"))),
            f"</{p}:ProductReferentie><{p}:ToewijzingNummer>", _text(rows["toewijzing_nr"]),
            f"</{p}:ToewijzingNummer><{p}:ProductCategorie>", _text(rows["productcategorie"]),
            f"</{p}:ProductCategorie><{p}:ProductCode>", _text(rows["productcode"]),
            f"</{p}:ProductCode><{p}:ProductPeriode><ijw:Begindatum>", _date(rows["periode_begin"]),
            "</ijw:Begindatum><ijw:Einddatum>", _date(rows["periode_eind"]),
            f"</ijw:Einddatum></{p}:ProductPeriode><{p}:GeleverdVolume>", _text(rows["volume"]),
            f"</{p}:GeleverdVolume><{p}:Eenheid>", _text(rows["eenheid"]), f"</{p}:Eenheid>",
            _opt(f"{p}:ProductTarief", _text(_col(rows, "tarief_cent"))),
            f"<{p}:IngediendBedrag><ijw:Bedrag>", pc.cast(pa.array(np.abs(signed)), _L),
            "</ijw:Bedrag><ijw:DebetCredit>", pa.array(np.where(signed < 0, "C", "D"), type=_L),
            f"</ijw:DebetCredit></{p}:IngediendBedrag>", _codes(p, _text(rows["retourcodes"])),
            f"</{p}:Prestatie>\n",
        )
        rmsg = pd.factorize(rows["bericht"])[0]
        c_starts = _starts([rmsg, pd.factorize(rows["bsn"])[0]])
        clients = rows.iloc[c_starts].reset_index(drop=True)
        c_frag = _join(f"<{p}:Client><{p}:Bsn>", _text(clients["bsn"]), f"</{p}:Bsn><{p}:Prestaties>\n",
                       _group_concat(frag, c_starts), f"</{p}:Prestaties>",
                       _codes(p, pa.array(["0200"] * len(clients), type=_L)), f"</{p}:Client>\n")
        rm_starts = _starts([rmsg])
        per_msg = _group_concat(c_frag, np.searchsorted(c_starts, rm_starts))
        listed_msgs = pd.Index(first["bericht"]).get_indexer(rows["bericht"].iloc[rm_starts])
        full = [""] * len(first)
        for k, s in zip(listed_msgs, per_msg.to_pylist()):
            full[k] = f"<{p}:Clienten>\n{s}</{p}:Clienten>"
        body = pa.array(full, type=_L)
    antw = _join(
        f"<{p}:DeclaratieAntwoord><{p}:DeclaratieNummer>", _text(first["declaratie_nr"]),
        f"</{p}:DeclaratieNummer>",
        _total(p, "TotaalIngediendBedrag", first["totaal_ingediend_cent_signed"].to_numpy(dtype=np.int64)),
        _total(p, "TotaalToegekendBedrag", first["totaal_toegekend_cent_signed"].to_numpy(dtype=np.int64)),
        "\n", body, _codes(p, _header_code(first)), f"</{p}:DeclaratieAntwoord>\n",
    )
    doc = _join(_root("JW325", first), _header("JW325", first), antw, f"</{p}:Bericht>\n")
    keys = first["bericht"].tolist()
    return list(zip(keys, (s.encode("utf-8") for s in doc.to_pylist())))


def render(bericht: str, df: pd.DataFrame) -> list[tuple[object, bytes]]:
    """Render every message of ``df`` (see the module docstring for the columns).

    Returns ``[(bericht_key, xml_bytes), ...]`` in order of first appearance of
    each key in ``df``. Vectorised: the cost is a few Arrow kernels per column,
    whatever the number of rows.
    """
    bericht = bericht.upper()
    if len(df) == 0:
        return []
    if bericht == "JW301":
        return _render_jw301(df)
    if bericht in ("JW305", "JW307"):
        return _render_jw30x(bericht, df)
    if bericht == "JW315":
        return _render_jw315(df)
    if bericht == "JW323":
        return _render_jw323(df)
    if bericht == "JW325":
        return _render_jw325(df)
    raise ValueError(f"unknown message type {bericht!r}; expected one of {sorted(BERICHTCODE)}")


def write_messages(root: Path | str, items: Iterable[tuple[str | Path, bytes]]) -> int:
    """Write ``(relative_path, bytes)`` items under ``root``; returns bytes written.

    Parent folders are created as needed. Files are written in one call each, in
    the given order.
    """
    root = Path(root)
    made: set[Path] = set()
    total = 0
    for rel, data in items:
        path = root / rel
        parent = path.parent
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "wb") as fh:
            fh.write(data)
        total += len(data)
    return total


# ---------------------------------------------------------------- single messages
def _frame(rows: Sequence[Mapping] | pd.DataFrame, common: Mapping) -> pd.DataFrame:
    df = pd.DataFrame(rows).reset_index(drop=True) if not isinstance(rows, pd.DataFrame) \
        else rows.reset_index(drop=True).copy()
    if len(df) == 0:
        raise ValueError("a message needs at least one product/Prestatie")
    for k, v in common.items():
        if k not in df.columns:
            df[k] = [v] * len(df)
    df["bericht"] = 0
    return df


def _client_cols(client: Mapping) -> dict:
    out = {"bsn": str(client["bsn"]), "geboortedatum": client["geboortedatum"],
           "geslacht": str(client.get("geslacht", "0"))}
    if client.get("achternaam"):
        out["achternaam"] = client["achternaam"]
    return out


def jw301(*, gemeentecode: str, agb: str, client: Mapping, producten, identificatie: str,
          dagtekening) -> bytes:
    """One JW301 Toewijzing (gemeente -> aanbieder) for one client.

    ``client``: ``bsn``, ``geboortedatum``, ``geslacht`` (COD046), optional
    ``achternaam``. ``producten``: list of dicts (or a DataFrame), one per
    ToegewezenProduct, with ``toewijzing_nr``, ``productcategorie``, optional
    ``productcode``, ``toewijzingsdatum`` + ``toewijzingstijd`` (or ``versie_ts``),
    ``ingangsdatum``, optional ``einddatum``, ``reden_wijziging`` (JZ002),
    ``volume``/``eenheid``/``frequentie`` and/or ``budget_cent`` (eurocent).
    """
    df = _frame(producten, {"gemeentecode": gemeentecode, "agb": agb, "identificatie": identificatie,
                            "dagtekening": dagtekening, **_client_cols(client)})
    return _render_jw301(df)[0][1]


def jw305(*, agb: str, gemeentecode: str, client: Mapping, producten, identificatie: str,
          dagtekening) -> bytes:
    """One JW305 Start zorg (aanbieder -> gemeente). ``producten``: ``toewijzing_nr``,
    ``productcategorie``, optional ``productcode``, optional ``ingangsdatum``
    (of the toewijzing), ``begindatum``."""
    df = _frame(producten, {"gemeentecode": gemeentecode, "agb": agb, "identificatie": identificatie,
                            "dagtekening": dagtekening, **_client_cols(client)})
    return _render_jw30x("JW305", df)[0][1]


def jw307(*, agb: str, gemeentecode: str, client: Mapping, producten, identificatie: str,
          dagtekening) -> bytes:
    """One JW307 Stop zorg (aanbieder -> gemeente). As :func:`jw305` plus
    ``reden_beeindiging`` (JZ588, e.g. ``"31"`` volgens plan) and ``einddatum``."""
    df = _frame(producten, {"gemeentecode": gemeentecode, "agb": agb, "identificatie": identificatie,
                            "dagtekening": dagtekening, **_client_cols(client)})
    return _render_jw30x("JW307", df)[0][1]


def jw315(*, agb: str, gemeentecode: str, client: Mapping, producten, identificatie: str,
          dagtekening) -> bytes:
    """One JW315 Verzoek om toewijzing (aanbieder -> gemeente). ``producten``:
    ``productcategorie``, optional ``productcode``, ``ingangsdatum``, optional
    ``einddatum``, Omvang or ``budget_cent``, ``verwijzer_type`` (COD327),
    optional ``verwijzer_naam``/``verwijzer_agb``, optional ``referentie``."""
    df = _frame(producten, {"gemeentecode": gemeentecode, "agb": agb, "identificatie": identificatie,
                            "dagtekening": dagtekening, **_client_cols(client)})
    return _render_jw315(df)[0][1]


def jw323(*, agb: str, gemeentecode: str, declaratie_nr: str, declaratie_begin, declaratie_eind,
          prestaties, identificatie: str, dagtekening) -> bytes:
    """One JW323 Declaratie (aanbieder -> gemeente) with any number of clients.

    ``prestaties``: list of dicts (or a DataFrame), one per Prestatie, with
    ``bsn``, ``referentie_nr``, optional ``vorig_referentie_nr`` (credits),
    ``toewijzing_nr``, ``productcategorie``, ``productcode``, ``periode_begin``,
    ``periode_eind`` (within one month), ``volume`` (>= 0), ``eenheid``,
    optional ``tarief_cent``, and ``bedrag_cent`` + ``debet_credit`` ("D"/"C") or
    a signed ``bedrag_cent_signed``. Prestaties of the same BSN are grouped under
    one Client; TotaalIngediendBedrag is the net total.
    """
    df = _frame(prestaties, {"gemeentecode": gemeentecode, "agb": agb, "identificatie": identificatie,
                             "dagtekening": dagtekening, "declaratie_nr": declaratie_nr,
                             "declaratie_begin": declaratie_begin, "declaratie_eind": declaratie_eind})
    return _render_jw323(df)[0][1]
