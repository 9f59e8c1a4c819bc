"""The synthetic demo dataset: calibrated iJw 3.2 berichtenverkeer (calibration.md).

``jeugdlib demo`` / :func:`write_demo` writes a dataset in the layout of
data-contract section 1::

    <out>/berichten/<regio_code>/<gemeentecode>/<JWnnn>/<jaar>/*.xml
    <out>/referentie/{producten,aanbieders,gemeenten,plekken,budgetplafonds,bevolking}.csv
    <out>/manifest.json

What is generated (per region, one region at a time, so memory is bounded by the
largest region whatever the number of regions):

* clients with valid (elfproef) BSNs, birth dates and one or more *zorgpaden*
  (client x productgroep x aanbieder), arriving from mid-2017 so that 2019 starts
  with care under way;
* per zorgpad the toewijzingen of calibration.md's product structure: trajecten
  licht/midden/zwaar (norm 12 months) followed by verlengingen, P*Q maatwerk and
  meerwerk variants beside or after them, P*Q products with frequencies 1/2/4/6
  and units minuut/uur/dagdeel/etmaal, budget-only toewijzingen, plek products in
  Venlo 2019-2021 (with plekken.csv), a taakgericht product that is never declared;
* toewijzing versions (JW301): first version before the ingangsdatum, shortened
  (05/06/07/09/02), extended (04), corrected (14), withdrawn (13);
* JW305 at the start, JW307 at the end with RedenBeeindiging (31 volgens plan and
  the others), JW315 for referred care with the verwijzer type;
* monthly JW323 declarations following each financing form: P*Q volume x tarief
  (utilisation below the maximum, higher for micro aanbieders), trajecten in
  monthly instalments of trajectprijs / norm_maanden, plek per day, budget in
  euros; one JW323 per aanbieder x gemeente x declaratieperiode x submission day,
  with a declaration lag that leaves the months before the extract date short;
* the dirt of calibration.md in known amounts, written to ``manifest.json``.

Everything is vectorised numpy/pandas (no Python loop per client, toewijzing or
Prestatie); XML is rendered by :func:`jeugdlib.ijw.writer.render`. The same seed
gives the same bytes: a seeded :class:`numpy.random.Generator` per region,
sorted iteration, and every timestamp derived from the data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .errors import JeugdlibError
from .ijw import writer

# ------------------------------------------------------------------ time frame
#: First day of care in the dataset (declarations start here).
SPAN_START = np.datetime64("2019-01-01")
#: The extract date: nothing is dated after it.
EXTRACT = np.datetime64("2024-09-11")
#: Zorgpaden start from here so that 2019 begins with care under way.
SIM_START = np.datetime64("2017-07-01")
YEARS = np.arange(2017, 2025)
D0 = np.datetime64("1970-01-01")


def _days(d) -> np.ndarray:
    """datetime64[D] -> int days since 1970."""
    return np.asarray(d, dtype="datetime64[D]").astype(np.int64)


def _dates(i) -> np.ndarray:
    return np.asarray(i, dtype=np.int64).astype("datetime64[D]")


def _month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return _dates(days).astype("datetime64[M]").astype(np.int64)


def _month_start(m: np.ndarray) -> np.ndarray:
    return np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _year_of(days: np.ndarray) -> np.ndarray:
    return _dates(days).astype("datetime64[Y]").astype(np.int64) + 1970


def _add_months(days: np.ndarray, n) -> np.ndarray:
    """Same day-of-month n months later (clipped to the month's end)."""
    d = _dates(days)
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    m2 = m + np.asarray(n, dtype=np.int64)
    last = ((m2 + 1).astype("datetime64[D]") - 1 - m2.astype("datetime64[D]")).astype(np.int64)
    return m2.astype("datetime64[D]").astype(np.int64) + np.minimum(dom, last)


EXTRACT_D = int(_days(EXTRACT))
SPAN_START_D = int(_days(SPAN_START))
SIM_START_D = int(_days(SIM_START))
SPAN_START_M = int(_month_of(np.array([SPAN_START_D]))[0])

# ------------------------------------------------------------------ product catalogue
S_GGZ = "3 - Jeugd-GGZ en behandeling"
S_AMB = "4 - Ambulante hulp en dagbesteding"
S_VERBLIJF = "5 - Verblijf en pleegzorg"
S_PLEK = "2 - Plekfinanciering"
S_CRISIS = "1 - Crisis (taakgericht)"

#: Yearly tariff index (tariffs valid from 1 January; 2023: 4,74% as calibration.md).
INDEX = {2017: 1.0, 2018: 1.0, 2019: 1.0, 2020: 1.025, 2021: 1.028, 2022: 1.032, 2023: 1.0474, 2024: 1.08}

# code, categorie, omschrijving, segment, productgroep, financieringsvorm, zwaarte, variant,
# norm_uren, norm_maanden, eenheid, frequentie, price 2019 (euro: trajectprijs / tarief per eenheid)
_P = [
    ("54G01", "54", "GGZ Licht", S_GGZ, "GGZ", "traject", "licht", "", 10, 12, "82", "6", 1250),
    ("54G02", "54", "GGZ Midden", S_GGZ, "GGZ", "traject", "midden", "", 23, 12, "82", "6", 2850),
    ("54G03", "54", "GGZ Zwaar", S_GGZ, "GGZ", "traject", "zwaar", "", 45, 12, "82", "6", 5550),
    ("54G04", "54", "GGZ Maatwerk", S_GGZ, "GGZ", "inspanning", "", "maatwerk", None, None, "04", "2", 118),
    ("54G05", "54", "GGZ Meerwerk", S_GGZ, "GGZ", "inspanning", "", "meerwerk", None, None, "04", "4", 118),
    ("45A51", "45", "Ambulant perspectief 1 Licht", S_AMB, "Ambulant perspectief 1", "traject", "licht", "",
     15, 12, "82", "6", 1500),
    ("45A52", "45", "Ambulant perspectief 1 Midden", S_AMB, "Ambulant perspectief 1", "traject", "midden", "",
     30, 12, "82", "6", 3000),
    ("45A53", "45", "Ambulant perspectief 1 Zwaar", S_AMB, "Ambulant perspectief 1", "traject", "zwaar", "",
     66, 12, "82", "6", 6600),
    ("45A54", "45", "Ambulant perspectief 1 Maatwerk", S_AMB, "Ambulant perspectief 1", "inspanning", "",
     "maatwerk", None, None, "04", "2", 100),
    ("45A55", "45", "Ambulant perspectief 1 Meerwerk", S_AMB, "Ambulant perspectief 1", "inspanning", "",
     "meerwerk", None, None, "04", "4", 100),
    ("45A62", "45", "Ambulant perspectief 2 Midden", S_AMB, "Ambulant perspectief 2", "traject", "midden", "",
     20, 12, "82", "6", 1900),
    ("45A63", "45", "Ambulant perspectief 2 Zwaar", S_AMB, "Ambulant perspectief 2", "traject", "zwaar", "",
     40, 12, "82", "6", 3800),
    ("45A64", "45", "Ambulant perspectief 2 Maatwerk", S_AMB, "Ambulant perspectief 2", "inspanning", "",
     "maatwerk", None, None, "04", "2", 95),
    ("45A65", "45", "Ambulant perspectief 2 Meerwerk", S_AMB, "Ambulant perspectief 2", "inspanning", "",
     "meerwerk", None, None, "04", "4", 95),
    ("45A71", "45", "Ambulante hulp duurzaam Licht", S_AMB, "Ambulante hulp duurzaam", "traject", "licht", "",
     90, 12, "82", "6", 7650),
    ("45A72", "45", "Ambulante hulp duurzaam Midden", S_AMB, "Ambulante hulp duurzaam", "traject", "midden", "",
     140, 12, "82", "6", 11900),
    ("45A73", "45", "Ambulante hulp duurzaam Zwaar", S_AMB, "Ambulante hulp duurzaam", "traject", "zwaar", "",
     240, 12, "82", "6", 20400),
    ("45A74", "45", "Ambulante hulp duurzaam Maatwerk", S_AMB, "Ambulante hulp duurzaam", "inspanning", "",
     "maatwerk", None, None, "04", "2", 85),
    ("45A75", "45", "Ambulante hulp duurzaam Meerwerk", S_AMB, "Ambulante hulp duurzaam", "inspanning", "",
     "meerwerk", None, None, "04", "4", 85),
    ("41L23", "41", "Schoolvervangende dagbesteding", S_AMB, "Dagbesteding", "traject", "zwaar", "",
     1664, 12, "82", "6", 49900),
    ("41L25", "41", "Dagbesteding", S_AMB, "Dagbesteding", "traject", "midden", "", 1040, 12, "82", "6", 31200),
    ("41L27", "41", "Naschoolse dagbesteding", S_AMB, "Dagbesteding", "traject", "licht", "",
     624, 12, "82", "6", 18700),
    ("41L31", "41", "Respijtzorg 207 uur", S_AMB, "Respijtzorg", "traject", "licht", "", 207, 12, "82", "6", 6200),
    ("41L32", "41", "Respijtzorg 416 uur", S_AMB, "Respijtzorg", "traject", "midden", "", 416, 12, "82", "6", 12500),
    ("41O01", "41", "Ontwikkelgroep", S_GGZ, "Ontwikkelgroepen", "inspanning", "", "", None, None, "16", "4", 400),
    # empty productgroep: the product code is its own group (metrics.md 0.3)
    ("45A11", "45", "Individuele begeleiding", S_AMB, "", "inspanning", "", "", None, None, "04", "4", 72),
    ("45A12", "45", "Diagnostiek", S_GGZ, "Diagnostiek", "inspanning", "", "", None, None, "01", "6", 2),
    ("45A13", "45", "Ambulante begeleiding", S_AMB, "Ambulante begeleiding", "inspanning", "", "", None, None,
     "04", "2", 78),
    ("45A99", "45", "Maatwerkbudget", S_AMB, "Maatwerkbudget", "inspanning", "", "", None, None, "83", "6", 1),
    ("43V01", "43", "Verblijf met behandeling", S_VERBLIJF, "Verblijf", "inspanning", "", "", None, None,
     "14", "1", 265),
    ("44P01", "44", "Pleegzorg", S_VERBLIJF, "Pleegzorg", "inspanning", "", "", None, None, "14", "1", 42),
    ("46C01", "46", "Crisiszorg (taakgericht)", S_CRISIS, "Crisis", "taak", "", "", None, None, "83", "6", 1),
    # plekfinanciering, Venlo 2019-2021 (price = per plek per year)
    ("41P01", "41", "Dagbesteding (plek)", S_PLEK, "Dagbesteding (plek)", "plek", "", "", None, None, "14", "1",
     24000),
    ("45P02", "45", "Groepsbehandeling (plek)", S_PLEK, "Groepsbehandeling (plek)", "plek", "", "", None, None,
     "14", "1", 21000),
    ("41P03", "41", "Ontwikkelgroep (plek)", S_PLEK, "Ontwikkelgroep (plek)", "plek", "", "", None, None, "14",
     "1", 30000),
    ("45P04", "45", "Jeugdhulp ambulant (plek)", S_PLEK, "Jeugdhulp ambulant (plek)", "plek", "", "", None, None,
     "14", "1", 9000),
    ("51P05", "51", "Generalistische GGZ (plek)", S_PLEK, "Generalistische GGZ (plek)", "plek", "", "", None,
     None, "14", "1", 4000),
    ("54P06", "54", "Jeugd-GGZ (plek)", S_PLEK, "Jeugd-GGZ (plek)", "plek", "", "", None, None, "14", "1", 12000),
]
#: Used in messages but absent from producten.csv (dirt: unknown product code).
_P.append(("45Z99", "45", "(onbekend product)", S_AMB, "", "inspanning", "", "", None, None, "04", "2", 90))
PCOLS = ["productcode", "productcategorie", "omschrijving", "segment", "productgroep", "financieringsvorm",
         "zwaarte", "variant", "norm_uren", "norm_maanden", "eenheid", "frequentie", "prijs"]
CAT = pd.DataFrame(_P, columns=PCOLS)
PIDX = {c: i for i, c in enumerate(CAT["productcode"])}
UNKNOWN_PRODUCT = "45Z99"
#: Products almost all delivered by niet-gecontracteerde aanbieders (calibration.md).
NGA_PRODUCTEN = ("45A74", "45A65")
PLEK_PRODUCTS = ["41P01", "45P02", "41P03", "45P04", "51P05", "54P06"]
PLEK_SLOTS = [14, 22, 9, 40, 30, 18]  # Venlo places per product (scale 1)
PLEK_GEMEENTE = "0983"

_P_PRICE = CAT["prijs"].to_numpy(dtype=float)
_P_NORM_M = CAT["norm_maanden"].fillna(0).to_numpy(dtype=np.int64)
_P_EENHEID = CAT["eenheid"].to_numpy(dtype=object)
_P_FREQ = CAT["frequentie"].to_numpy(dtype=object)
_P_CAT = CAT["productcategorie"].to_numpy(dtype=object)
_P_CODE = CAT["productcode"].to_numpy(dtype=object)
_FIN = CAT["financieringsvorm"].to_numpy(dtype=object)
_FIN_ARR = _FIN


def _price_cent(prod: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Catalogue price in cent of product index ``prod`` valid in ``year``."""
    idx = np.array([INDEX[y] for y in YEARS])
    cum = np.cumprod(idx)
    y = np.clip(year, YEARS[0], YEARS[-1]) - YEARS[0]
    price = _P_PRICE[prod] * cum[y] / cum[2019 - YEARS[0]]
    # per-minute tariffs are small: keep them whole cents
    return np.maximum(np.round(price * 100).astype(np.int64), 1)


def producten_table() -> pd.DataFrame:
    """producten.csv: one row per product code and year of validity (euro amounts)."""
    rows = []
    years = np.arange(2019, 2025)
    for i, r in CAT.iterrows():
        if r.productcode == UNKNOWN_PRODUCT:
            continue
        plek = r.financieringsvorm == "plek"
        for y in years:
            if plek and y > 2021:
                continue
            price = _price_cent(np.array([i]), np.array([y]))[0] / 100
            rows.append({
                "productcode": r.productcode, "productcategorie": r.productcategorie,
                "omschrijving": r.omschrijving, "segment": r.segment, "productgroep": r.productgroep,
                "financieringsvorm": r.financieringsvorm, "zwaarte": r.zwaarte, "variant": r.variant,
                "norm_uren": r.norm_uren if pd.notna(r.norm_uren) else "",
                "norm_maanden": r.norm_maanden if pd.notna(r.norm_maanden) else "",
                "tarief": f"{price:.2f}" if r.financieringsvorm == "inspanning" else "",
                "trajectprijs": f"{price:.2f}" if r.financieringsvorm == "traject" else "",
                "geldig_vanaf": f"{y}-01-01" if y > 2019 else "2015-01-01",
                "geldig_tot": f"{y}-12-31" if (y < 2024 or plek) else "",
            })
    df = pd.DataFrame(rows)
    for c in ("norm_uren", "norm_maanden"):
        df[c] = df[c].map(lambda v: "" if v == "" else str(int(v)))
    return df


# ------------------------------------------------------------------ zorgpad groups
@dataclasses.dataclass(frozen=True)
class Group:
    """A productgroep as the generator sees it."""

    name: str
    kind: str  # traject | pq
    traject: tuple = ()  # product codes by zwaarte (licht, midden, zwaar); "" where absent
    zwaarte_p: tuple = ()
    maatwerk: str = ""
    meerwerk: str = ""
    product: str = ""  # pq groups
    p_mm: float = 0.0  # share of zorgpaden with maatwerk or meerwerk (2021)
    p_verl: float = 0.3  # verlenging probability
    dur: tuple = (3, 12)  # pq toewijzing months
    vol: tuple = (1, 3)  # pq volume per frequency unit
    pool: int = 20  # aanbieders offering the group (Noord-Limburg scale)
    mm_hours: tuple = (2, 4)  # maatwerk hours per week
    meer_hours: tuple = (6, 14)  # meerwerk hours per month


GROUPS = [
    Group("GGZ", "traject", ("54G01", "54G02", "54G03"), (0.36, 0.40, 0.24), "54G04", "54G05",
          p_mm=0.07, p_verl=0.30, pool=30, mm_hours=(2, 5), meer_hours=(6, 14)),
    Group("Ambulant perspectief 1", "traject", ("45A51", "45A52", "45A53"), (0.30, 0.42, 0.28), "45A54", "45A55",
          p_mm=0.27, p_verl=0.35, pool=64, mm_hours=(4, 7), meer_hours=(8, 18)),
    Group("Ambulant perspectief 2", "traject", ("", "45A62", "45A63"), (0.0, 0.6, 0.4), "45A64", "45A65",
          p_mm=0.21, p_verl=0.35, pool=32, mm_hours=(2, 4), meer_hours=(6, 12)),
    Group("Ambulante hulp duurzaam", "traject", ("45A71", "45A72", "45A73"), (0.35, 0.40, 0.25), "45A74", "45A75",
          p_mm=0.24, p_verl=0.45, pool=27, mm_hours=(3, 6), meer_hours=(8, 16)),
    Group("Dagbesteding", "traject", ("41L27", "41L25", "41L23"), (0.40, 0.35, 0.25), p_verl=0.55, pool=34),
    Group("Respijtzorg", "traject", ("41L31", "41L32", ""), (0.6, 0.4, 0.0), p_verl=0.45, pool=16),
    Group("Ontwikkelgroepen", "pq", product="41O01", dur=(5, 9), vol=(6, 10), p_verl=0.35, pool=3),
    Group("Individuele begeleiding", "pq", product="45A11", dur=(3, 7), vol=(7, 15), p_verl=0.5, pool=95),
    Group("Diagnostiek", "pq", product="45A12", dur=(1, 3), vol=(300, 900), p_verl=0.05, pool=30),
    Group("Ambulante begeleiding", "pq", product="45A13", dur=(2, 7), vol=(3, 5), p_verl=0.5, pool=110),
    Group("Maatwerkbudget", "pq", product="45A99", dur=(6, 12), vol=(2000, 9000), p_verl=0.2, pool=12),
    Group("Verblijf", "pq", product="43V01", dur=(4, 14), vol=(1, 1), p_verl=0.5, pool=10),
    Group("Pleegzorg", "pq", product="44P01", dur=(12, 24), vol=(1, 1), p_verl=0.6, pool=4),
]
GIDX = {g.name: i for i, g in enumerate(GROUPS)}


# ------------------------------------------------------------------ regions
@dataclasses.dataclass
class Profile:
    """How a region differs (calibration.md). Rates per 1,000 inhabitants per month."""

    arrivals: float = 0.53  # new clients per 1,000 inhabitants per month
    mix: dict = dataclasses.field(default_factory=dict)  # group -> weight
    extra_paths: float = 1.2  # mean further zorgpaden per client
    u_regulier: float = 0.72  # P*Q utilisation (verzilvering) of regulier aanbieders
    u_micro: float = 0.84
    aanbieders: int = 420
    micro_share: float = 0.45  # of aanbieders
    pool_factor: float = 1.0  # aanbieders per productgroep relative to Noord-Limburg
    zipf: float = 1.05
    trend_arrivals: dict = dataclasses.field(default_factory=dict)  # year -> multiplier
    mm_growth: float = 0.15  # yearly relative growth of maatwerk/meerwerk share after 2021
    micro_growth: float = 0.14  # yearly growth of micro aanbieders' weight after 2021
    nga_growth: float = 0.35  # yearly growth of NGA aanbieders' weight after 2021
    ggz_top_mm: float = 0.90  # maatwerk share of zorgpaden at the largest GGZ aanbieder
    plek: bool = False
    plafond: dict = dataclasses.field(default_factory=dict)  # year -> fraction of previous year
    size: float = 1.0  # demo size relative to the real region
    long_care: float = 0.0  # extra verlenging probability for long care (MLO)
    zwaar_growth: float = 0.15  # yearly growth of the weight of zwaar trajecten after 2021
    intensity: float = 0.12  # yearly growth of maatwerk/meerwerk hours after 2021


BASE_MIX = {"GGZ": 1.05, "Ambulant perspectief 1": 0.42, "Ambulant perspectief 2": 0.47,
            "Ambulante hulp duurzaam": 0.25, "Dagbesteding": 0.22, "Respijtzorg": 0.10,
            "Ontwikkelgroepen": 0.17, "Individuele begeleiding": 0.85, "Diagnostiek": 0.35,
            "Ambulante begeleiding": 0.80, "Maatwerkbudget": 0.05, "Verblijf": 0.035, "Pleegzorg": 0.035}

#: Approximate inhabitants of the demo gemeenten (CBS, 2023), for sizes and bevolking.csv.
INWONERS = {
    "0889": 13400, "0893": 13100, "0907": 17100, "1507": 42900, "1894": 44300, "0983": 102000, "0984": 44300,
    "0888": 15700, "1954": 35700, "0899": 27500, "1903": 25600, "1729": 14300, "0917": 87300, "0928": 45200,
    "0882": 37100, "0935": 122000, "0938": 18900, "0965": 10500, "1883": 91500, "0971": 24700, "0981": 9800,
    "0994": 16300, "0986": 12400,
    "1711": 31800, "1641": 24000, "1669": 20700, "0957": 59000,
    "0482": 20500, "0505": 121000, "0512": 38000, "0531": 32000, "1963": 88800, "0610": 25600, "0642": 45000,
    "0590": 32500, "0523": 18600, "1978": 45000,
}


def _profiles() -> dict[str, Profile]:
    nl = Profile(plek=True, plafond={})
    # Midden-Limburg Oost: cheaper care per client, about twice as much allocated as
    # invoiced, many small ambulant aanbieders, more wonen and long care.
    mlo_mix = dict(BASE_MIX, **{"Verblijf": 0.09, "Pleegzorg": 0.08, "Individuele begeleiding": 0.9,
                                "Ambulante begeleiding": 0.9, "Ambulante hulp duurzaam": 0.12})
    mlo = Profile(arrivals=0.44, mix=mlo_mix, extra_paths=0.55, u_regulier=0.46, u_micro=0.54,
                  aanbieders=120, micro_share=0.55, zipf=1.5, long_care=0.12, size=0.3,
                  trend_arrivals={2017: 0.9, 2018: 0.94, 2019: 0.98, 2020: 1.02, 2021: 1.06, 2022: 1.08,
                                  2023: 1.10, 2024: 1.10})
    # Zuid-Holland Zuid: users +17,5% 2017-2019, ten largest aanbieders ~50% of cost,
    # ~145 regional aanbieders, budget ceilings 90% (2019) and 80% (2020).
    zhz = Profile(arrivals=0.56, aanbieders=300, zipf=0.9, pool_factor=1.5, size=0.12,
                  trend_arrivals={2017: 0.86, 2018: 0.93, 2019: 1.0, 2020: 1.0, 2021: 1.0, 2022: 1.01,
                                  2023: 1.02, 2024: 1.02},
                  plafond={2019: 0.90, 2020: 0.80})
    # Zuid-Limburg: ~EUR 116 mln, ~200 contracted aanbieders, crisis as a lump sum
    # (taakgericht, never declared), pleegzorg ~900 clients a year.
    zl_mix = dict(BASE_MIX, **{"Pleegzorg": 0.10})
    zl = Profile(arrivals=0.50, mix=zl_mix, aanbieders=210, size=0.12)
    out = {"Noord-Limburg": nl, "Midden-Limburg Oost": mlo, "Zuid-Holland Zuid": zhz, "Zuid-Limburg": zl}
    for p in out.values():
        if not p.mix:
            p.mix = dict(BASE_MIX)
    return out


def _generic_profile(regio_code: str) -> Profile:
    """A region without documents: the Noord-Limburg profile, varied a little by region."""
    h = zlib.crc32(regio_code.encode())
    r = np.random.default_rng(h)
    return Profile(arrivals=0.36 * r.uniform(0.85, 1.15), u_regulier=r.uniform(0.66, 0.78),
                   u_micro=r.uniform(0.78, 0.9), aanbieders=int(r.integers(150, 300)),
                   zipf=r.uniform(1.0, 1.3), mix=dict(BASE_MIX), size=1.0)


def _inwoners(codes: list[str]) -> np.ndarray:
    """Inhabitants per gemeente: known for the demo gemeenten, else a fixed pseudo-size
    from the code (lognormal around 45,000, so 342 gemeenten make about 17 million)."""
    out = []
    for c in codes:
        if c in INWONERS:
            out.append(INWONERS[c])
        else:
            r = np.random.default_rng(zlib.crc32(c.encode()))
            out.append(int(np.clip(r.lognormal(np.log(32000), 0.75), 1000, 900000)))
    return np.array(out, dtype=np.int64)


# ------------------------------------------------------------------ BSN
_W = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)


def _bsns(prefix: int, n: int) -> np.ndarray:
    """``n`` distinct valid BSNs (elfproef) for one region, as 9-digit strings.

    Body = region prefix (2 digits) + a permutation of 0..999999; the check digit
    follows from the elfproef; bodies whose check digit would be 10 are skipped.
    """
    if n == 0:
        return np.array([], dtype=object)
    cand = np.arange(int(n * 1.2) + 20, dtype=np.int64)
    if len(cand) > 1_000_000:
        raise JeugdlibError(f"te veel cliënten in één regio ({n}); verlaag --scale")
    body = (prefix % 90 + 10) * 1_000_000 + (cand * 7919 + 12345) % 1_000_000
    digits = (body[:, None] // (10 ** np.arange(7, -1, -1))) % 10
    s = digits @ _W
    check = s % 11
    ok = (check < 10) & (s > 0)
    body, check = body[ok][:n], check[ok][:n]
    return np.char.add(body.astype("U8"), check.astype("U1")).astype(object)


def _corrupt_bsn(bsn: np.ndarray) -> np.ndarray:
    """Change the last digit: the number no longer passes the elfproef."""
    s = np.asarray(bsn, dtype="U9")
    head = s.astype("U8")
    last = (s.view("U1").reshape(len(s), 9)[:, 8].astype(np.int64) + 1) % 10
    return np.char.add(head, last.astype("U1")).astype(object)


# ------------------------------------------------------------------ helpers
def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: (row index repeated, 0..count-1 within row)."""
    counts = np.asarray(counts, dtype=np.int64)
    idx = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(len(idx)) - np.repeat(starts, counts)
    return idx, k


def _choice_by_group(rng, group_of_row: np.ndarray, pools: list[np.ndarray], weights: list[np.ndarray]):
    """For every row pick a member of its group's pool with the pool's weights (loop over groups)."""
    out = np.zeros(len(group_of_row), dtype=np.int64)
    for g in np.unique(group_of_row):
        m = group_of_row == g
        w = weights[g] / weights[g].sum()
        out[m] = rng.choice(pools[g], size=int(m.sum()), p=w)
    return out


# ------------------------------------------------------------------ region state
@dataclasses.dataclass
class Region:
    index: int
    code: str
    naam: str
    gemeenten: list
    inwoners: np.ndarray
    profile: Profile
    scale: float


def _region_aanbieders(reg: Region, rng) -> pd.DataFrame:
    """Aanbieders of one region: AGB, type, contract window, weight per group."""
    n = max(int(round(reg.profile.aanbieders * min(1.0, (reg.scale * reg.profile.size) ** 0.5))), 12)
    k = np.arange(n)
    agb = np.array([f"98{reg.index % 100:02d}{i:04d}" for i in k], dtype=object)
    # micro aanbieders are the small ones (higher numbers)
    micro = rng.random(n) < np.minimum(reg.profile.micro_share * 2 * (k + 1) / n, 0.95)
    # contract windows: most contracted throughout; some start 2021 or end 2022; some never (NGA)
    r = rng.random(n)
    vanaf = np.where(r < 0.10, "2021-01-01", "2015-01-01").astype(object)
    tot = np.where((r >= 0.10) & (r < 0.15), "2022-12-31", "").astype(object)
    nga = r >= 0.88
    vanaf[nga] = ""
    tot[nga] = ""
    # the first aanbieders are the big regular ones
    micro[:8] = False
    nga[:12] = False
    vanaf[:12] = "2015-01-01"
    tot[:12] = ""
    naam = np.array([f"{'Micro' if m else 'Zorg'}aanbieder {reg.code}-{i + 1:03d}" for i, m in zip(k, micro)],
                    dtype=object)
    return pd.DataFrame({"agb": agb, "naam": naam, "type": np.where(micro, "micro", "regulier"),
                         "gecontracteerd_vanaf": vanaf, "gecontracteerd_tot": tot, "_nga": nga, "_micro": micro})


def _pools(reg: Region, aanb: pd.DataFrame, rng):
    """Per group: pool of aanbieder indexes and base weights (Zipf by size rank)."""
    n = len(aanb)
    micro = aanb["_micro"].to_numpy()
    nga = aanb["_nga"].to_numpy()
    f = min(1.0, (reg.scale * reg.profile.size) ** 0.5)
    pools, weights = [], []
    for g in GROUPS:
        size = int(np.clip(round(g.pool * f * reg.profile.pool_factor), 1, n))
        # big aanbieders are in many pools; draw the rest
        p = 1.0 / (np.arange(n) + 12.0)
        members = np.sort(rng.choice(n, size=size, replace=False, p=p / p.sum()))
        rank = np.arange(1, size + 1)
        w = rank ** (-reg.profile.zipf)
        w = np.where(micro[members], w * 1.1, w)
        w = np.where(nga[members], w * 0.2, w)
        if g.name == "GGZ":
            w[0] *= 1.0  # the largest GGZ aanbieder does most of the maatwerk (see _traject_paths)
        pools.append(members)
        weights.append(w)
    return pools, weights


# ------------------------------------------------------------------ generation of one region
def _gen_region(reg: Region, seed: int) -> dict:
    """Generate everything for one region as flat numpy/pandas tables (no XML yet)."""
    prof = reg.profile
    rng = np.random.default_rng([seed, zlib.crc32(reg.code.encode())])
    aanb = _region_aanbieders(reg, rng)
    pools, weights = _pools(reg, aanb, rng)
    micro = aanb["_micro"].to_numpy()
    nga = aanb["_nga"].to_numpy()
    vanaf = aanb["gecontracteerd_vanaf"].to_numpy()
    tot = aanb["gecontracteerd_tot"].to_numpy()
    c_vanaf = np.where(vanaf == "", np.iinfo(np.int64).max,
                       _days(np.where(vanaf == "", "2015-01-01", vanaf).astype("datetime64[D]")))
    c_tot = np.where(tot == "", np.iinfo(np.int64).max, _days(np.where(tot == "", "2099-01-01", tot).astype(
        "datetime64[D]")))

    # --- clients: Poisson arrivals per gemeente and month
    m0 = int(_month_of(np.array([SIM_START_D]))[0])
    m1 = int(_month_of(np.array([EXTRACT_D]))[0])
    months = np.arange(m0, m1 + 1)
    years = _year_of(_month_start(months))
    trend = np.array([prof.trend_arrivals.get(int(y), 1.0) for y in years])
    lam = (reg.inwoners[:, None] / 1000.0) * prof.arrivals * trend[None, :] * reg.scale * prof.size
    counts = rng.poisson(lam)
    gi, mi = np.nonzero(counts)
    rep = counts[gi, mi]
    c_gem = np.repeat(gi, rep)
    c_month = np.repeat(months[mi], rep)
    n_c = len(c_gem)
    ms = _month_start(c_month)
    dim = _month_start(c_month + 1) - ms
    c_arrive = ms + (rng.random(n_c) * dim).astype(np.int64)
    # last month: nobody arrives after the extract date
    c_arrive = np.minimum(c_arrive, EXTRACT_D - 20)
    order = np.lexsort((c_gem, c_arrive))
    c_gem, c_arrive = c_gem[order], c_arrive[order]
    age0 = np.clip(rng.gamma(4.0, 2.6, n_c), 0.3, 17.9)  # years at first care
    c_birth = c_arrive - (age0 * 365.25).astype(np.int64)
    c_sex = rng.choice(np.array(["1", "2"], dtype=object), n_c, p=[0.56, 0.44])
    c_bsn = _bsns(reg.index, n_c)

    # --- zorgpaden: first at arrival, more later or beside
    n_extra = rng.poisson(prof.extra_paths, n_c)
    p_client, k = _expand(1 + n_extra)
    n_p = len(p_client)
    first = k == 0
    r = rng.random(n_p)
    offset = np.where(r < 0.45, rng.integers(0, 60, n_p), rng.integers(120, 900, n_p))
    p_start = c_arrive[p_client] + np.where(first, 0, offset)
    keep = p_start < EXTRACT_D - 10
    p_client, p_start, first = p_client[keep], p_start[keep], first[keep]
    n_p = len(p_client)
    p_year = _year_of(p_start)
    mixw = np.array([prof.mix.get(g.name, 0.0) for g in GROUPS])
    p_group = rng.choice(len(GROUPS), n_p, p=mixw / mixw.sum())
    # a zorgpad beside the first one is of another productgroep
    first_group = np.zeros(n_c, dtype=np.int64)
    first_group[p_client[first]] = p_group[first]
    same = (~first) & (p_group == first_group[p_client]) & (p_start - c_arrive[p_client] < 60)
    p_group[same] = rng.choice(len(GROUPS), int(same.sum()), p=mixw / mixw.sum())
    same = (~first) & (p_group == first_group[p_client]) & (p_start - c_arrive[p_client] < 60)
    p_group[same] = np.where(first_group[p_client[same]] == GIDX["Ambulante begeleiding"],
                             GIDX["Individuele begeleiding"], GIDX["Ambulante begeleiding"])
    # aanbieder per zorgpad, weights drifting by year (micro and NGA rising after 2021)
    p_agb = np.zeros(n_p, dtype=np.int64)
    for y in np.unique(p_year):
        yf = max(0, int(y) - 2021)
        wy = []
        for g, (pool, w) in enumerate(zip(pools, weights)):
            ww = w * np.where(micro[pool], (1 + prof.micro_growth) ** yf, 1.0)
            ww = ww * np.where(nga[pool], (1 + prof.nga_growth) ** yf, 1.0)
            wy.append(ww)
        m = p_year == y
        p_agb[m] = _choice_by_group(rng, p_group[m], pools, wy)
    p_gem = c_gem[p_client]

    # --- toewijzingen per zorgpad
    tw = _toewijzingen_for_paths(rng, prof, p_client, p_start, p_group, p_agb, p_year, pools)
    # plek products (Venlo 2019-2021)
    plek = None
    if prof.plek and PLEK_GEMEENTE in reg.gemeenten:
        plek = _plek(rng, reg, aanb, n_c)
    tw = pd.DataFrame(tw)
    tw["gem"] = p_gem[tw["path"].to_numpy()]
    if plek is not None:
        pc, pt = plek
        base = n_c
        # plek clients are extra clients of Venlo
        n_pc = len(pc["arrive"])
        c_gem = np.concatenate([c_gem, np.full(n_pc, reg.gemeenten.index(PLEK_GEMEENTE))])
        c_arrive = np.concatenate([c_arrive, pc["arrive"]])
        c_birth = np.concatenate([c_birth, pc["arrive"] - (rng.uniform(4, 16, n_pc) * 365.25).astype(np.int64)])
        c_sex = np.concatenate([c_sex, rng.choice(np.array(["1", "2"], dtype=object), n_pc)])
        c_bsn = _bsns(reg.index, n_c + n_pc)
        pt = pd.DataFrame(pt)
        pt["client"] += base
        pt["path"] = -1
        pt["gem"] = reg.gemeenten.index(PLEK_GEMEENTE)
        tw = pd.concat([tw, pt], ignore_index=True)
        n_c += n_pc
    tw = tw[tw["start"] < EXTRACT_D].reset_index(drop=True)
    # keep what is still relevant on SPAN_START (ended before: not in the extract)
    # (a region with budget ceilings in 2019 keeps 2018 too: they follow 2018's production)
    keep_from = SPAN_START_D - (365 if 2019 in prof.plafond else 0)
    tw = tw[np.maximum(tw["end"].to_numpy(), tw["plan_end"].to_numpy()) >= keep_from].reset_index(drop=True)
    clients = pd.DataFrame({"gem": c_gem, "arrive": c_arrive, "birth": c_birth, "sex": c_sex, "bsn": c_bsn})
    return {"aanbieders": aanb, "tw": tw, "clients": clients, "rng": rng}


def _toewijzingen_for_paths(rng, prof: Profile, p_client, p_start, p_group, p_agb, p_year, pools) -> dict:
    """Toewijzingen of every zorgpad (vectorised per group kind).

    Columns: path, client, agb, prod, start, plan_end (NaN-free; open = -1 flag
    ``open``), end (actual care end), ended_early, reden (JW307 reason), volume,
    u (utilisation), full (traject declared in full at an early regular end).
    """
    out = {k: [] for k in ("path", "client", "agb", "prod", "start", "plan_end", "end", "open", "reden",
                           "volume", "seq")}
    n_p = len(p_client)
    path_ids = np.arange(n_p)

    def add(mask_idx, prod, start, plan_end, end, volume, seq, open_=None, agb=None):
        n = len(mask_idx)
        out["path"].append(path_ids[mask_idx])
        out["client"].append(p_client[mask_idx])
        out["agb"].append(p_agb[mask_idx] if agb is None else agb)
        out["prod"].append(np.broadcast_to(np.asarray(prod, dtype=np.int64), (n,)).copy())
        out["start"].append(start)
        out["plan_end"].append(plan_end)
        out["end"].append(end)
        out["open"].append(np.zeros(n, bool) if open_ is None else open_)
        out["reden"].append(np.full(n, "", dtype=object))
        out["volume"].append(np.asarray(volume, dtype=np.int64))
        out["seq"].append(np.full(n, seq, dtype=np.int64))

    yf = np.maximum(0, p_year - 2021)
    for gi, g in enumerate(GROUPS):
        idx = np.flatnonzero(p_group == gi)
        n = len(idx)
        if n == 0:
            continue
        s = p_start[idx]
        if g.kind == "traject":
            _traject_paths(rng, prof, g, gi, idx, s, yf[idx], p_agb, pools, add)
        else:
            prod = PIDX[g.product]
            lo, hi = g.dur
            cur_s = s.copy()
            alive = np.ones(n, bool)
            for step in range(1, 4):  # at most three toewijzingen in a chain
                ii = np.flatnonzero(alive)
                if len(ii) == 0:
                    break
                dur = rng.integers(lo, hi + 1, len(ii))
                pe = _add_months(cur_s[ii], dur) - 1
                early = rng.random(len(ii)) < 0.2
                e = np.where(early, cur_s[ii] + ((pe - cur_s[ii]) * rng.uniform(0.3, 0.9, len(ii))).astype(
                    np.int64), pe)
                vlo, vhi = g.vol
                vol = rng.integers(vlo, vhi + 1, len(ii))
                # open-ended toewijzingen (no einddatum) for verblijf and pleegzorg, some begeleiding
                op = np.zeros(len(ii), bool)
                if g.product in ("43V01", "44P01", "45A13"):
                    op = rng.random(len(ii)) < (0.5 if g.product != "45A13" else 0.15)
                add(idx[ii], prod, cur_s[ii], pe, e, vol, step, open_=op)
                cont = rng.random(len(ii)) < (g.p_verl + prof.long_care)
                cur_s[ii] = e + 1 + rng.integers(0, 25, len(ii))
                alive[ii] = cont & ~early
    res = {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}
    res["volume"] = res["volume"].astype(np.int64)
    return res


def _traject_paths(rng, prof: Profile, g: Group, gi: int, idx, s, yf, p_agb, pools, add) -> None:
    """Toewijzingen of the zorgpaden of one traject group (calibration.md product structure).

    Kinds of zorgpad: a traject (licht/midden/zwaar, norm 12 months) with or without
    verlenging; with meerwerk beside it; followed by maatwerk; maatwerk only (with its
    own verlengingen); a few complex paths mixing everything (the long tail of labels);
    and a few runs of short trajecten each declared in full (calibration.md's dirt).
    """
    n = len(idx)
    zw_p = np.array(g.zwaarte_p, dtype=float)
    # heavier over the years (part of the cost growth)
    shift = np.array([1.0, 1.0, 1.0])[None, :] * np.ones((n, 1))
    shift[:, 2] = (1 + prof.zwaar_growth) ** yf
    pz = zw_p[None, :] * shift
    pz = pz / pz.sum(axis=1, keepdims=True)
    zw = (rng.random(n)[:, None] > np.cumsum(pz, axis=1)).sum(axis=1)
    codes = np.array([PIDX.get(c, -1) for c in g.traject])
    zw = np.where(codes[zw] < 0, np.where(codes[np.minimum(zw + 1, 2)] >= 0, np.minimum(zw + 1, 2), zw - 1), zw)
    has_mm = g.maatwerk != ""
    p_mm = g.p_mm * (1 + prof.mm_growth) ** yf
    if has_mm and g.name == "GGZ":
        top = pools[gi][0]
        p_mm = np.where(p_agb[idx] == top, prof.ggz_top_mm, p_mm)
    r = rng.random(n)
    kind = np.zeros(n, dtype=np.int64)  # 0 traject, 1 + meerwerk, 2 > maatwerk, 3 maatwerk only, 4 complex, 5 short
    if has_mm:
        u = r / np.maximum(p_mm, 1e-9)
        kind = np.where(r < p_mm, np.where(u < 0.12, 1, np.where(u < 0.25, 2, 3)), 0)
        kind = np.where((kind == 0) & (rng.random(n) < 0.03), 4, kind)
    kind = np.where((kind == 0) & (rng.random(n) < 0.02), 5, kind)
    hours = np.array(g.mm_hours)
    vol_f = (1 + prof.intensity) ** yf

    def mm_vol(ii, lo, hi):
        return np.maximum(np.round(rng.integers(lo, hi + 1, len(ii)) * vol_f[ii]), 1)

    # the first traject (every kind but maatwerk only and short runs)
    has_t = (kind != 3) & (kind != 5)
    early = rng.random(n) < 0.35
    plan_end = _add_months(s, 12) - 1
    end = np.where(early, s + rng.integers(45, 300, n), plan_end)
    ti = np.flatnonzero(has_t)
    add(idx[ti], codes[zw[ti]], s[ti], plan_end[ti], end[ti], np.ones(len(ti)), 1)
    # verlenging: a next traject right after, mostly of the same zwaarte
    vi = np.flatnonzero(has_t & (kind != 2) & (rng.random(n) < g.p_verl + prof.long_care))
    up = rng.random(len(vi)) < 0.08
    zw2 = np.where(up & (codes[np.minimum(zw[vi] + 1, 2)] >= 0), np.minimum(zw[vi] + 1, 2), zw[vi])
    s2 = end[vi] + 1 + rng.integers(0, 20, len(vi))
    pe2 = _add_months(s2, 12) - 1
    e2 = np.where(rng.random(len(vi)) < 0.4, s2 + rng.integers(45, 300, len(vi)), pe2)
    add(idx[vi], codes[zw2], s2, pe2, e2, np.ones(len(vi)), 2)
    if has_mm:
        pm, pw = PIDX[g.maatwerk], PIDX[g.meerwerk]
        # meerwerk beside the first traject, same span
        mi = np.flatnonzero(kind == 1)
        add(idx[mi], pw, s[mi], end[mi], end[mi], mm_vol(mi, *g.meer_hours), 3)
        # maatwerk after the traject
        ai = np.flatnonzero(kind == 2)
        as_ = end[ai] + 1 + rng.integers(0, 15, len(ai))
        ape = _add_months(as_, rng.integers(5, 12, len(ai))) - 1
        add(idx[ai], pm, as_, ape, ape, mm_vol(ai, *hours), 4)
        # maatwerk only, with verlengingen (a chain of up to three)
        oi = np.flatnonzero(kind == 3)
        cur = s[oi].copy()
        alive = np.ones(len(oi), bool)
        for step in (1, 2, 3):
            jj = np.flatnonzero(alive)
            if len(jj) == 0:
                break
            pe = _add_months(cur[jj], rng.integers(4, 10, len(jj))) - 1
            e = np.where(rng.random(len(jj)) < 0.15, cur[jj] + ((pe - cur[jj]) * 0.6).astype(np.int64), pe)
            add(idx[oi[jj]], pm, cur[jj], pe, e, mm_vol(oi[jj], *hours), step)
            cur[jj] = e + 1 + rng.integers(0, 10, len(jj))
            alive[jj] = (rng.random(len(jj)) < 0.55) & (e == pe)
        # complex paths: two or three more toewijzingen of any kind at random offsets
        ci = np.flatnonzero(kind == 4)
        for step in (5, 6, 7):
            if step == 7:
                ci = ci[rng.random(len(ci)) < 0.5]
            choice = rng.integers(0, 5, len(ci))
            prod = np.select([choice == 0, choice == 1, choice == 2, choice == 3],
                             [codes[np.maximum(zw[ci] - 1, 0)], codes[np.minimum(zw[ci] + 1, 2)], pm, pw], codes[zw[ci]])
            prod = np.where(prod < 0, codes[zw[ci]], prod)
            cs = s[ci] + rng.integers(-20, 330, len(ci))
            cpe = _add_months(cs, rng.integers(3, 13, len(ci))) - 1
            is_tr = _FIN_ARR[prod] == "traject"
            cpe = np.where(is_tr, _add_months(cs, 12) - 1, cpe)
            ce = np.where(is_tr & (rng.random(len(ci)) < 0.4), cs + rng.integers(45, 300, len(ci)), cpe)
            add(idx[ci], prod, cs, cpe, ce, np.where(is_tr, 1, mm_vol(ci, *hours)), step)
    # runs of short trajecten, each declared in full (flag in 'seq' >= 10)
    si = np.flatnonzero(kind == 5)
    cur = s[si].copy()
    for step in (10, 11, 12):
        if step == 12:
            si, cur = si[: len(si) // 2], cur[: len(si) // 2]
        pe = _add_months(cur, 12) - 1
        e = cur + rng.integers(25, 60, len(si))
        add(idx[si], codes[zw[si]], cur, pe, e, np.ones(len(si)), step)
        cur = e + 1 + rng.integers(5, 25, len(si))


def _plek(rng, reg: Region, aanb: pd.DataFrame, n_c: int):
    """Plek-financed stays in Venlo 2019-2021: back-to-back stays per place, so monthly
    populations stay very close to the number of places."""
    f = reg.scale * reg.profile.size
    rows = {k: [] for k in ("client", "agb", "prod", "start", "plan_end", "end", "open", "reden", "volume",
                            "seq")}
    arrive = []
    n_client = 0
    lo, hi = _days(np.datetime64("2018-07-01")), _days(np.datetime64("2021-12-31"))
    big = np.flatnonzero(~aanb["_nga"].to_numpy() & ~aanb["_micro"].to_numpy())
    for j, (code, slots) in enumerate(zip(PLEK_PRODUCTS, PLEK_SLOTS)):
        n_slots = max(int(round(slots * f)), 1)
        # each slot: a chain of stays of 3-14 months with short gaps
        n_stays = 14
        slot = np.repeat(np.arange(n_slots), n_stays)
        dur = rng.integers(90, 420, len(slot))
        gap = rng.integers(0, 8, len(slot))
        first = lo - rng.integers(0, 300, n_slots)
        cum = np.cumsum((dur + gap).reshape(n_slots, n_stays), axis=1) - (dur + gap).reshape(n_slots, n_stays)
        start = (first[:, None] + cum).ravel()
        end = np.minimum(start + dur - 1, hi)
        keep = (start <= hi) & (end >= _days(SPAN_START))
        start, end = start[keep], end[keep]
        n = len(start)
        agb = big[(j * 3 + (slot[keep] % 2)) % len(big)]  # one or two aanbieders per product
        rows["client"].append(n_client + np.arange(n))
        arrive.append(start)
        n_client += n
        rows["agb"].append(agb)
        rows["prod"].append(np.full(n, PIDX[code]))
        rows["start"].append(start)
        rows["plan_end"].append(end)
        rows["end"].append(end)
        rows["open"].append(np.zeros(n, bool))
        rows["reden"].append(np.full(n, "", dtype=object))
        rows["volume"].append(np.ones(n, dtype=np.int64))
        rows["seq"].append(np.ones(n, dtype=np.int64))
    pt = {k: np.concatenate(v) for k, v in rows.items()}
    return {"arrive": np.concatenate(arrive)}, pt


# ------------------------------------------------------------------ dirt, versions, messages of one region
_REDEN_WIJZIGING = {"31": "05", "32": "05", "33": "05", "34": "05", "35": "07", "38": "09", "39": "06",
                    "02": "02", "20": "05", "36": "03", "37": "12"}
_VERWIJZER = (np.array(["02", "01", "03", "04", "05", "06", "08"], dtype=object),
              np.array([0.40, 0.22, 0.10, 0.10, 0.10, 0.05, 0.03]))
_EARLY_REASONS = (np.array(["31", "32", "33", "34", "35", "38", "39", "02", "20"], dtype=object),
                  np.array([0.40, 0.17, 0.10, 0.14, 0.06, 0.06, 0.05, 0.005, 0.015]))
_YEARS_DAYS = 365.25


def _beta(rng, mean: np.ndarray, k: float = 9.0) -> np.ndarray:
    mean = np.clip(mean, 0.02, 0.98)
    return rng.beta(mean * k, (1 - mean) * k)


def _time_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A fixed time of day (seconds) derived from two integer columns (never the clock)."""
    return (8 * 3600 + (a * 7919 + b * 104729) % (10 * 3600)).astype(np.int64)


def _finish_region(reg: Region, g: dict) -> dict:
    """Dirt, toewijzing numbers and versions, start/stop, verzoeken and declaration lines."""
    rng = g["rng"]
    tw, clients, aanb = g["tw"], g["clients"], g["aanbieders"]
    n_c = len(clients)
    # deterministic order and numbers
    tw = tw.sort_values(["client", "start", "prod", "seq", "agb"], kind="mergesort").reset_index(drop=True)
    n_t = len(tw)
    # every gemeente numbers its toewijzingen in its own sequence (iJw OP275): the same
    # number occurs in several gemeenten of a region for different clients
    n_g = len(reg.gemeenten)
    tw["nr"] = _per_gemeente_numbers(tw["gem"].to_numpy(), np.zeros(n_g, dtype=np.int64))
    cl = tw["client"].to_numpy()
    # --- client roles: normal, older than 21, invalid BSN
    has_tw = np.zeros(n_c, bool)
    has_tw[cl] = True
    cand = np.flatnonzero(has_tw)
    role = np.zeros(n_c, dtype=np.int64)  # 0 normal 1 over21 2 bad bsn
    n_old = max(1, int(round(len(cand) * 0.004)))
    n_bad = max(1, int(round(len(cand) * 0.0006)))
    pick = rng.choice(cand, n_old + n_bad, replace=False)
    role[pick[:n_old]] = 1
    role[pick[n_old:]] = 2
    # birth dates: normal clients never older than 21 on any date they are in care
    first_start = np.full(n_c, np.iinfo(np.int64).max)
    np.minimum.at(first_start, cl, tw["start"].to_numpy())
    last_end = np.zeros(n_c, dtype=np.int64)
    np.maximum.at(last_end, cl, np.minimum(np.maximum(tw["end"].to_numpy(), tw["plan_end"].to_numpy()),
                                           EXTRACT_D + 31))
    birth = clients["birth"].to_numpy().copy()
    lim = last_end - int(21.8 * _YEARS_DAYS)
    birth = np.where(has_tw, np.maximum(birth, lim), birth)
    birth = np.where(has_tw, np.minimum(birth, first_start - 30), birth)
    old = role == 1
    birth[old] = first_start[old] - (rng.uniform(22.2, 23.5, old.sum()) * _YEARS_DAYS).astype(np.int64)
    clients = clients.assign(birth=birth, role=role)
    bsn = clients["bsn"].to_numpy().copy()
    bsn[role == 2] = _corrupt_bsn(bsn[role == 2])
    clients["bsn_msg"] = bsn
    t_role = role[cl]
    normal_t = t_role == 0
    prod = tw["prod"].to_numpy()
    fin = _FIN[prod]
    man = {}

    # --- unknown product codes and unknown AGB codes (whole toewijzingen, normal clients)
    pq = (fin == "inspanning") & normal_t & (tw["path"].to_numpy() >= 0)
    pq_idx = np.flatnonzero(pq & (_P_EENHEID[prod] == "04") & (tw["seq"].to_numpy() == 1))
    n_up = min(len(pq_idx), max(1, int(round(len(pq_idx) * 0.002))))
    up = np.sort(rng.choice(pq_idx, n_up, replace=False)) if n_up else np.zeros(0, np.int64)
    prod = prod.copy()
    prod[up] = PIDX[UNKNOWN_PRODUCT]
    tw["prod"] = prod
    n_ua = max(1, int(round(len(pq_idx) * 0.002)))
    rest = np.setdiff1d(pq_idx, up)
    ua = np.sort(rng.choice(rest, min(n_ua, len(rest)), replace=False))
    agb_codes = np.concatenate([aanb["agb"].to_numpy(dtype=object),
                                np.array([f"97{reg.index % 100:02d}{i:04d}" for i in range(2)], dtype=object)])
    agb_i = tw["agb"].to_numpy().copy()
    agb_i[ua] = len(aanb) + (np.arange(len(ua)) % 2)
    tw["agb"] = agb_i
    # some heavy and maatwerk products are almost all delivered by NGA aanbieders
    nga_idx = np.flatnonzero(aanb["_nga"].to_numpy())
    biased = np.isin(prod, [PIDX[c] for c in NGA_PRODUCTEN]) & normal_t & ~np.isin(np.arange(n_t), ua)
    biased &= rng.random(n_t) < 0.8
    if len(nga_idx):
        agb_i[biased] = nga_idx[(cl[biased] * 7 + prod[biased]) % min(len(nga_idx), 3)]
    tw["agb"] = agb_i
    tw["unknown_agb"] = np.isin(np.arange(n_t), ua)
    tw["unknown_prod"] = np.isin(np.arange(n_t), up)

    # --- JW307 reasons and utilisation
    start = tw["start"].to_numpy()
    end = tw["end"].to_numpy()
    plan_end = tw["plan_end"].to_numpy()
    is_open = tw["open"].to_numpy()
    ended = end < EXTRACT_D - 5
    early = end < plan_end
    reden = np.where(early, rng.choice(_EARLY_REASONS[0], n_t, p=_EARLY_REASONS[1] / _EARLY_REASONS[1].sum()),
                     "31").astype(object)
    reden = np.where(ended, reden, "")
    is_micro = np.concatenate([aanb["_micro"].to_numpy(), [False, False]])[agb_i]
    prof = reg.profile
    u = _beta(rng, np.where(is_micro, prof.u_micro, prof.u_regulier))
    u = np.where(np.isin(prod, [PIDX["43V01"], PIDX["44P01"]]) | (fin == "plek"), 0.985, u)
    # traject ended regularly before its norm: declared in full (calibration.md's dirt)
    short_run = tw["seq"].to_numpy() >= 10
    reden = np.where(short_run & ended, "31", reden)
    full = (fin == "traject") & early & (reden == "31") & ((rng.random(n_t) < 0.2) | short_run)
    tw["reden"] = reden
    tw["u"] = u
    tw["full"] = full

    # --- versions (JW301)
    cl_agb_time = _time_of(cl, agb_i)
    # the same lead for products of one client and aanbieder starting the same day: one message
    lead = 3 + (cl * 31 + agb_i * 17 + start) % 18
    v1_date = start - lead
    v1_end = np.where(is_open, -1, plan_end)
    vol = tw["volume"].to_numpy()
    rows = [dict(t=np.arange(n_t), date=v1_date, sec=cl_agb_time, eind=v1_end, reden="", volume=vol)]
    # extended: first version shorter, extended (04) before it ran out
    ext = (~early) & (~is_open) & (fin != "plek") & (rng.random(n_t) < 0.08)
    short_end = _add_months(plan_end, -rng.integers(2, 5, n_t))
    ext_date = short_end - 20
    ext &= (ext_date > v1_date + 1) & (ext_date <= EXTRACT_D) & (short_end > start + 20)
    rows[0]["eind"] = np.where(ext, short_end, rows[0]["eind"])
    ei = np.flatnonzero(ext)
    rows.append(dict(t=ei, date=ext_date[ei], sec=cl_agb_time[ei] + 60, eind=plan_end[ei], reden="04",
                     volume=vol[ei]))
    # administrative correction (14) of the volume shortly after the first version
    corr = (fin == "inspanning") & (rng.random(n_t) < 0.02) & ~ext
    ci = np.flatnonzero(corr)
    first_vol = vol.copy()
    first_vol[ci] = np.maximum(vol[ci] + rng.choice([-1, 1, 2], len(ci)), 1)
    first_vol[ci] = np.where(first_vol[ci] == vol[ci], vol[ci] + 1, first_vol[ci])
    rows[0]["volume"] = first_vol
    c_date = v1_date[ci] + rng.integers(1, 6, len(ci))
    rows.append(dict(t=ci, date=c_date, sec=cl_agb_time[ci] + 120, eind=np.where(ext[ci], short_end[ci],
                                                                              v1_end[ci]),
                     reden="14", volume=vol[ci]))
    # shortened / closed: a version with the actual end when care stopped before the planned end
    close = ended & (early | is_open)
    close_date = end + rng.integers(1, 11, n_t)
    close &= close_date <= EXTRACT_D
    xi = np.flatnonzero(close)
    rows.append(dict(t=xi, date=np.maximum(close_date[xi], v1_date[xi] + 1), sec=cl_agb_time[xi] + 180,
                     eind=end[xi], reden=np.array([_REDEN_WIJZIGING.get(r, "05") for r in reden[xi]],
                                                  dtype=object), volume=vol[xi]))
    # a correction after closing must not overtake it
    # --- extra erroneous toewijzingen: withdrawn (13) and einddatum < ingangsdatum
    base_idx = np.flatnonzero(normal_t & (tw["path"].to_numpy() >= 0) & (start >= SPAN_START_D + 30)
                              & (start < EXTRACT_D - 30))
    n_w = max(1, int(round(n_t * 0.008)))
    n_n = max(1, int(round(n_t * 0.001)))
    src = np.sort(rng.choice(base_idx, n_w + n_n, replace=False))
    w_src, n_src = src[:n_w], src[n_w:]
    extra = tw.iloc[np.concatenate([w_src, n_src])].copy()
    used = np.bincount(tw["gem"].to_numpy(), minlength=n_g).astype(np.int64)
    extra["nr"] = _per_gemeente_numbers(extra["gem"].to_numpy(), used)
    extra["kind"] = np.r_[np.full(n_w, "ingetrokken"), np.full(n_n, "einde_voor_ingang")]
    tw["kind"] = "normaal"
    ex_t = n_t + np.arange(len(extra))
    tw = pd.concat([tw, extra], ignore_index=True)
    es = extra["start"].to_numpy()
    ecl, eagb = extra["client"].to_numpy(), extra["agb"].to_numpy()
    e_time = _time_of(ecl, eagb) + 300
    rows.append(dict(t=ex_t, date=es - 5, sec=e_time, eind=extra["plan_end"].to_numpy(), reden="",
                     volume=extra["volume"].to_numpy()))
    bad_end = np.where(np.arange(len(extra)) < n_w, es, es - rng.integers(1, 30, len(extra)))
    rows.append(dict(t=ex_t, date=es + rng.integers(1, 8, len(extra)), sec=e_time + 60, eind=bad_end,
                     reden=np.where(np.arange(len(extra)) < n_w, "13", "14").astype(object),
                     volume=extra["volume"].to_numpy()))
    ver = pd.DataFrame({k: np.concatenate([np.broadcast_to(np.asarray(r[k], dtype=object if k == "reden"
                                                                       else np.int64), (len(r["t"]),))
                                          for r in rows]) for k in ("t", "date", "sec", "eind", "reden",
                                                                    "volume")})
    ver = ver[ver["date"] <= EXTRACT_D].reset_index(drop=True)
    man["ingetrokken_rw13"] = int(n_w)
    man["einde_voor_ingang"] = int(n_n)
    tw_all = tw
    normal_kind = tw_all["kind"].to_numpy() == "normaal"
    return dict(tw=tw_all, ver=ver, clients=clients, agb_codes=agb_codes, man=man, rng=rng,
                normal_kind=normal_kind, aanbieders=aanb)


#: First ToewijzingNummer of every gemeente's own sequence (all start alike, so numbers collide
#: across gemeenten, as they do in real archives).
NR_START = 100_000
#: ToewijzingNummers of declaration lines on unknown toewijzingen (above every sequence).
NR_ONBEKEND = 9_000_000


def _per_gemeente_numbers(gem: np.ndarray, used: np.ndarray) -> np.ndarray:
    """ToewijzingNummers in row order, a sequence per gemeente continuing after ``used[gem]``."""
    gem = np.asarray(gem, dtype=np.int64)
    order = np.argsort(gem, kind="stable")
    counts = np.bincount(gem, minlength=len(used))
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(gem), dtype=np.int64)
    rank[order] = np.arange(len(gem)) - np.repeat(starts, counts)
    return NR_START + used[gem] + 1 + rank


def _ref(gem: np.ndarray, nr: np.ndarray, month: np.ndarray, suffix: str) -> np.ndarray:
    """ReferentieNummer of a declaration line: gemeente, toewijzing, month, kind of line."""
    g = np.char.zfill(np.asarray(gem).astype(np.int64).astype("U3"), 3)
    return np.char.add(np.char.add(np.char.add("R", g), np.char.add(np.asarray(nr).astype("U9"), "-")),
                       np.char.add(np.asarray(month).astype("U4"), suffix)).astype(object)


def _declaraties(reg: Region, f: dict) -> pd.DataFrame:
    """Monthly declaration lines (before lag and corrections) for the normal toewijzingen.

    From January 2019; from January 2018 for a region with budget ceilings in 2019
    (they are a share of the previous year's production; 2018 is dropped after that).
    """
    first_m = SPAN_START_M - (12 if 2019 in reg.profile.plafond else 0)
    rng = f["rng"]
    tw = f["tw"]
    ok = f["normal_kind"]
    t_idx = np.flatnonzero(ok)
    start = tw["start"].to_numpy()[t_idx]
    end = np.minimum(tw["end"].to_numpy()[t_idx], EXTRACT_D - 1)
    prod = tw["prod"].to_numpy()[t_idx]
    m_first = np.maximum(_month_of(start), first_m)
    m_last = _month_of(end)
    n_m = np.maximum(m_last - m_first + 1, 0)
    row, k = _expand(n_m)
    t = t_idx[row]
    month = m_first[row] + k
    ms = _month_start(month)
    me = _month_start(month + 1) - 1
    s, e = start[row], end[row]
    pb = np.maximum(ms, s)
    pe = np.minimum(me, e)
    days = pe - pb + 1
    p = prod[row]
    fin = _FIN[p]
    year = _year_of(ms)
    vol_t = tw["volume"].to_numpy()[t]
    u = tw["u"].to_numpy()[t]
    n = len(t)
    volume = np.zeros(n, dtype=np.int64)
    tarief = np.zeros(n, dtype=np.int64)
    eenheid = _P_EENHEID[p].copy()
    # traject: monthly instalments of trajectprijs / norm_maanden at the tariff of the month
    trj = fin == "traject"
    # month number within the traject (counted from its start month, also before SPAN_START)
    k_tr = month - _month_of(start[row])
    norm = np.maximum(_P_NORM_M[p], 1)
    price_start = _price_cent(p, year)
    inst = price_start // norm
    full = tw["full"].to_numpy()[t] & (month == m_last[row])
    last_amount = price_start - inst * np.minimum(k_tr, norm - 1)
    tr_amount = np.where(full, last_amount, inst)
    tr_ok = trj & (k_tr < norm)
    volume = np.where(trj, 1, volume)
    tarief = np.where(trj, tr_amount, tarief)
    # inspanning: delivered = maximum in the period x utilisation x noise
    insp = fin == "inspanning"
    freq = _P_FREQ[p]
    total_days = (np.maximum(tw["plan_end"].to_numpy()[t], s) - s + 1).astype(float)
    maxv = np.select([freq == "1", freq == "2", freq == "4", freq == "6"],
                     [vol_t * days, vol_t * days / 7.0, vol_t * 1.0, vol_t * days / total_days], 0.0)
    noise = rng.uniform(0.8, 1.2, n)
    deliv = np.minimum(maxv * u * noise * _VOLUME_JAAR[np.clip(year, 2017, 2024) - 2017], maxv)
    tarief_i = _price_cent(p, year)
    # some hour toewijzingen are declared in minutes (metrics.md 3: units convert)
    in_min = insp & (eenheid == "04") & (freq == "4") & ((tw["nr"].to_numpy()[t] % 10) == 3)
    deliv = np.where(in_min, deliv * 60, deliv)
    eenheid = np.where(in_min, "01", eenheid)
    tarief_i = np.where(in_min, np.maximum(np.round(tarief_i / 60.0).astype(np.int64), 1), tarief_i)
    # budget-only (eenheid 83): euros, tarief 1 euro
    volume = np.where(insp, np.round(deliv).astype(np.int64), volume)
    tarief = np.where(insp, tarief_i, tarief)
    # plek: per day at prijs_per_plek / 365
    plk = fin == "plek"
    volume = np.where(plk, days, volume)
    tarief = np.where(plk, np.round(_price_cent(p, year) / 365.0).astype(np.int64), tarief)
    keep = np.where(trj, tr_ok, volume > 0) & (days > 0)
    bedrag = volume * tarief
    out = pd.DataFrame({
        "t": t[keep], "month": month[keep], "pb": pb[keep], "pe": pe[keep], "prod": p[keep],
        "volume": volume[keep], "eenheid": eenheid[keep], "tarief": tarief[keep], "bedrag": bedrag[keep],
    })
    return out


#: More care delivered per toewijzing in recent years (calibration.md: cost +10,8% in 2023
#: and +14,1% in 2024 with stable clients and toewijzingen; the rest is tariff index and mix).
_VOLUME_JAAR = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.04, 1.08])  # 2017..2024
_LAGS = (np.array([1, 2, 3, 4, 6]), np.array([0.88, 0.07, 0.03, 0.015, 0.005]))
#: Share of JW305/JW307 records corrected: deleted (StatusAanlevering 3) and sent again.
_CORRECTIE_START_STOP = 0.005
#: Micro aanbieders declare later: this share of their declarations one month later still.
_MICRO_LATER = 0.3
#: A thin tail of declarations sent 7 to 12 months after the month (late aanbieders).
_LAG_TAIL = 0.004
#: JW325: share of the declaration lines rejected one by one, share of those declared again
#: (a month or two later, new ReferentieNummer), share of declarations rejected whole.
_AFGEWEZEN = 0.03
_OPNIEUW = 0.8
_HEEL_AFGEWEZEN = 0.003
#: RetourCodes of rejected Prestaties (basisschema LDT_RetourCode) and their frequencies.
_RETOUR = (np.array(["9307", "9308", "0611", "9321", "9341", "9307,9308"], dtype=object),
           np.array([0.30, 0.15, 0.20, 0.20, 0.05, 0.10]))


#: Target uitnutting of the 2024 ceilings, by rank (green, orange, red in turn), against
#: the projection the Sturing report makes at peildatum 2024-07-01.
STOPLICHT_DOEL = (0.75, 0.95, 1.20)


def _plafonds_stoplicht(lines: pd.DataFrame, py: pd.DataFrame, agb_codes, n_a: int) -> list[dict]:
    """2024 budgetplafonds for the 25 aanbieders with the highest 2023 production, set
    so that the Sturing report (peildatum 2024-07-01, linear projection of what was
    received for January-June, metrics.md 11) shows them green, orange and red in turn:
    plafond = projection / target uitnutting (:data:`STOPLICHT_DOEL` by rank)."""
    jan, jul = (int(_month_of(np.array([_days(np.datetime64(d))]))[0]) for d in ("2024-01-01", "2024-07-01"))
    peil = int(_days(np.datetime64("2024-07-01")))
    m, dag = lines["month"].to_numpy(), lines["dag"].to_numpy()
    ok = (m >= jan) & (m < jul) & (dag < peil)
    if "afw" in lines.columns:
        ok &= lines["afw"].to_numpy() == 0
    signed = np.where(lines["dc"].to_numpy() == "C", -1, 1) * lines["bedrag"].to_numpy()
    proj = pd.Series(signed[ok], index=lines["agb"].to_numpy()[ok]).groupby(level=0).sum() * 12 / 6
    top = py[(py["year"] == 2023) & (py["agb"] < n_a)].sort_values("bedrag", ascending=False)["agb"].head(25)
    rows = []
    for i, ai in enumerate(top):
        p = float(proj.get(ai, 0.0))
        if p <= 0:
            continue
        rows.append({"agb": agb_codes[ai], "jaar": 2024, "plafond": f"{p / STOPLICHT_DOEL[i % 3] / 100:.2f}",
                     "productcode": "", "gemeentecode": ""})
    return rows


def _lag_and_dirt(reg: Region, f: dict, dec: pd.DataFrame, compact: bool = False) -> tuple[pd.DataFrame, dict]:
    """Submission dates (lag), corrections, zero lines, credits without debet, lines on
    unknown toewijzingen and JW325 rejections (with the lines declared again). Returns the
    lines as written (debet/credit) and the counts."""
    rng = f["rng"]
    tw = f["tw"]
    clients = f["clients"]
    n_a = len(f["agb_codes"])
    t = dec["t"].to_numpy()
    agb = tw["agb"].to_numpy()[t]
    cl = tw["client"].to_numpy()[t]
    gem = tw["gem"].to_numpy()[t]
    month = dec["month"].to_numpy()
    # lag per (aanbieder, gemeente, month), a few lines later still
    gkey = (agb.astype(np.int64) * 1000 + gem) * 2000 + (month - SPAN_START_M + 100)
    ukey, inv = np.unique(gkey, return_inverse=True)
    lag_g = rng.choice(_LAGS[0], len(ukey), p=_LAGS[1])
    micro_a = np.concatenate([f["aanbieders"]["_micro"].to_numpy(dtype=bool),
                              np.zeros(max(n_a - len(f["aanbieders"]), 0), dtype=bool)])
    g_micro = micro_a[(ukey // 2000) // 1000]
    lag_g = lag_g + (g_micro & (rng.random(len(ukey)) < _MICRO_LATER)).astype(np.int64)
    lag_g = np.where(rng.random(len(ukey)) < _LAG_TAIL, rng.integers(7, 13, len(ukey)), lag_g)
    lag = lag_g[inv] + np.where(rng.random(len(t)) < 0.03, rng.integers(1, 4, len(t)), 0)
    sub_day = 2 + (np.arange(n_a) * 7) % 20
    dag = _month_start(month + lag) + sub_day[agb]
    dec = dec.assign(agb=agb, client=cl, gem=gem, dag=dag, dc="D", vorig="", nr=tw["nr"].to_numpy()[t])
    dec["ref"] = _ref(dec["gem"].to_numpy(), dec["nr"].to_numpy(), dec["month"].to_numpy(), "1")
    # production per aanbieder and year before the lag (for budgetplafonds)
    prod_year = dec.assign(year=_year_of(_month_start(month))).groupby(["agb", "year"])["bedrag"].sum()
    dec = dec[(dec["dag"].to_numpy() <= EXTRACT_D) & (dec["month"].to_numpy() >= SPAN_START_M)].reset_index(
        drop=True)
    normal = clients["role"].to_numpy()[dec["client"].to_numpy()] == 0
    man = {}
    # -- corrections: credit of a line later; 60% with a new, lower debet
    cand = np.flatnonzero(normal & (dec["month"].to_numpy() < _month_of(np.array([EXTRACT_D]))[0] - 5))
    n_corr = int(round(len(cand) * 0.015))
    ci = np.sort(rng.choice(cand, n_corr, replace=False)) if n_corr else np.zeros(0, np.int64)
    cr = dec.iloc[ci].copy()
    cr["dag"] = cr["dag"].to_numpy() + 28 * rng.integers(1, 4, len(cr))
    cr = cr[cr["dag"].to_numpy() <= EXTRACT_D]
    cr["dc"] = "C"
    cr["vorig"] = cr["ref"]
    cr["ref"] = cr["ref"].str.slice(0, -1) + "2"
    v = cr["volume"].to_numpy()
    new_v = np.floor(v * rng.uniform(0.4, 0.9, len(cr))).astype(np.int64)
    redebet = (rng.random(len(cr)) < 0.6) & (new_v >= 1) & (new_v != v) & (_FIN[cr["prod"].to_numpy()] != "traject")
    rd = cr[redebet].copy()
    rd["dc"] = "D"
    rd["vorig"] = ""
    rd["ref"] = rd["ref"].str.slice(0, -1) + "3"
    rd["volume"] = new_v[redebet]
    rd["bedrag"] = rd["volume"].to_numpy() * rd["tarief"].to_numpy()
    man["creditering_opheffend"] = int((~redebet).sum())
    man["correctie_credit_debet"] = int(redebet.sum())
    # -- zero-amount lines: a month after the last declared month of a P*Q toewijzing
    fin = _FIN[dec["prod"].to_numpy()]
    last_m = dec.groupby("t")["month"].transform("max").to_numpy()
    zc = np.flatnonzero(normal & (fin == "inspanning") & (dec["month"].to_numpy() == last_m)
                        & (last_m < _month_of(np.array([EXTRACT_D]))[0] - 3))
    n_zero = max(1, int(round(len(dec) * 0.002)))
    zi = np.sort(rng.choice(zc, min(n_zero, len(zc)), replace=False))
    zl = dec.iloc[zi].copy()
    zl["month"] = zl["month"] + 1
    zl["pb"] = _month_start(zl["month"].to_numpy())
    zl["pe"] = _month_start(zl["month"].to_numpy() + 1) - 1
    zl["volume"] = 0
    zl["bedrag"] = 0
    zl["dag"] = zl["pe"].to_numpy() + 1 + sub_day[zl["agb"].to_numpy()]
    zl["ref"] = zl["ref"].str.slice(0, -1) + "0"
    zl = zl[zl["dag"].to_numpy() <= EXTRACT_D]
    zl["ref"] = _ref(zl["gem"].to_numpy(), zl["nr"].to_numpy(), zl["month"].to_numpy(), "0")
    man["nul_bedrag"] = int(len(zl))
    # -- credits without any debet: a month before the toewijzing started
    first_m = dec.groupby("t")["month"].transform("min").to_numpy()
    tw_start_m = _month_of(tw["start"].to_numpy()[dec["t"].to_numpy()])
    kc = np.flatnonzero(normal & (fin == "inspanning") & (dec["month"].to_numpy() == first_m)
                        & (first_m == tw_start_m) & (first_m > SPAN_START_M))
    n_cz = max(1, int(round(len(dec) * 0.0005)))
    ki = np.sort(rng.choice(kc, min(n_cz, len(kc)), replace=False))
    cz = dec.iloc[ki].copy()
    cz["month"] = cz["month"] - 1
    cz["pb"] = _month_start(cz["month"].to_numpy())
    cz["pe"] = _month_start(cz["month"].to_numpy() + 1) - 1
    cz["volume"] = np.maximum(cz["volume"].to_numpy() // 2, 1)
    cz["bedrag"] = cz["volume"].to_numpy() * cz["tarief"].to_numpy()
    cz["dc"] = "C"
    cz["vorig"] = np.char.add("X", cz["nr"].to_numpy().astype("U9")).astype(object)
    cz["ref"] = _ref(cz["gem"].to_numpy(), cz["nr"].to_numpy(), cz["month"].to_numpy(), "9")
    man["credit_zonder_debet"] = int(len(cz))
    # -- lines on unknown toewijzingen (copies of normal P*Q lines with another number)
    uc = np.flatnonzero(normal & (fin == "inspanning"))
    n_ut = max(2, int(round(len(dec) * 0.001)))
    ui = np.sort(rng.choice(uc, min(n_ut, len(uc)), replace=False))
    ut = dec.iloc[ui].copy()
    ut["nr"] = NR_ONBEKEND + np.arange(len(ut))
    ut["t"] = -1
    ut["ref"] = _ref(ut["gem"].to_numpy(), ut["nr"].to_numpy(), ut["month"].to_numpy(), "1")
    man["onbekende_toewijzing"] = {"regels": int(len(ut)), "bedrag_cent": int(ut["bedrag"].sum())}
    lines = pd.concat([dec, cr, rd, zl, cz, ut], ignore_index=True)
    lines["src"] = np.repeat(np.arange(6), [len(dec), len(cr), len(rd), len(zl), len(cz), len(ut)])
    lines, man["afwijzingen"] = _afwijzingen(rng, lines, clients["role"].to_numpy(), compact)
    return lines, man, prod_year


def _jw323_keys(lines: pd.DataFrame, compact: bool) -> list[np.ndarray]:
    """The columns whose values make one JW323 message (as :func:`_write_region` writes them)."""
    gm, a = lines["gem"].to_numpy(), lines["agb"].to_numpy()
    her = lines["her"].to_numpy()
    if compact:
        return [gm, a, _year_of(_month_start(lines["month"].to_numpy())), her]
    return [gm, a, lines["month"].to_numpy(), lines["dag"].to_numpy(), her]


def _afwijzingen(rng, lines: pd.DataFrame, role: np.ndarray, compact: bool) -> tuple[pd.DataFrame, dict]:
    """JW325 rejections: whole declarations (every line) and single lines, most declared again.

    Marks ``afw`` (0 no, 1 line rejected, 2 in a declaration rejected whole) and ``retour``
    (RetourCodes) and adds the lines declared again (``her`` = 1: a later JW323, new
    ReferentieNummer, ``src`` 6). Only debet lines of clients with a valid BSN whose answer and
    resubmission fall before the extract date, and no line that is credited later.
    """
    n = len(lines)
    lines = lines.assign(her=np.zeros(n, dtype=np.int64), afw=np.zeros(n, dtype=np.int64), retour="")
    dag = lines["dag"].to_numpy()
    src = lines["src"].to_numpy()
    # pandas' hash-based isin: np.isin on these object (string) arrays sorts them, 10x slower
    credited = lines["ref"].isin(pd.unique(lines["vorig"].to_numpy()[src == 1])).to_numpy()
    ok = (role[lines["client"].to_numpy()] == 0) & (src == 0) & (dag + 84 <= EXTRACT_D) & ~credited
    mid, _ = _msg_ids(_jw323_keys(lines, compact))
    n_m = int(mid.max()) + 1 if n else 0
    all_ok = np.ones(n_m, dtype=bool)
    np.logical_and.at(all_ok, mid, ok)
    cand_m = np.flatnonzero(all_ok)
    n_whole = min(len(cand_m), max(1, int(round(n_m * _HEEL_AFGEWEZEN))))
    whole_m = np.sort(rng.choice(cand_m, n_whole, replace=False)) if n_whole else np.zeros(0, np.int64)
    whole_per_m = np.zeros(n_m, dtype=bool)
    whole_per_m[whole_m] = True
    whole = whole_per_m[mid]
    cand_l = np.flatnonzero(ok & ~whole)
    n_l = int(round(len(cand_l) * _AFGEWEZEN))
    li = np.sort(rng.choice(cand_l, n_l, replace=False)) if n_l else np.zeros(0, np.int64)
    afw = np.zeros(n, dtype=np.int64)
    afw[li] = 1
    afw[whole] = 2
    retour = np.where(afw == 1, rng.choice(_RETOUR[0], n, p=_RETOUR[1]), "").astype(object)
    lines["afw"] = afw
    lines["retour"] = retour
    again = ((afw == 1) & (rng.random(n) < _OPNIEUW)) | (afw == 2)
    re = lines[again].copy()
    re["dag"] = re["dag"].to_numpy() + np.where(rng.random(len(re)) < 0.7, 28, 56) + rng.integers(0, 6, len(re))
    re["ref"] = re["ref"].str.slice(0, -1) + np.where(re["afw"].to_numpy() == 2, "5", "4")
    re["her"] = 1
    re["afw"] = 0
    re["retour"] = ""
    re["src"] = 6
    signed = np.where(lines["dc"].to_numpy() == "C", -1, 1) * lines["bedrag"].to_numpy()
    counts = pd.Series(retour[afw == 1]).value_counts().sort_index()
    man = {"regels": int((afw == 1).sum()), "bedrag_cent": int(signed[afw == 1].sum()),
           "retourcodes": {str(k): int(v) for k, v in counts.items()},
           "hele_declaraties": int(n_whole), "hele_declaraties_regels": int((afw == 2).sum()),
           "hele_declaraties_bedrag_cent": int(signed[afw == 2].sum()),
           "opnieuw_ingediend": int(len(re)),
           "afwijzingen_rijen": int((afw == 1).sum()) + int(n_whole)}
    return pd.concat([lines, re], ignore_index=True), man


# ------------------------------------------------------------------ messages
def _iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(_dates(days), unit="D").astype(object)


def _client_cols(f: dict, client: np.ndarray) -> dict:
    c = f["clients"]
    return {"bsn": c["bsn_msg"].to_numpy()[client], "geboortedatum": _dates(c["birth"].to_numpy()[client]),
            "geslacht": c["sex"].to_numpy()[client]}


def _msg_ids(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Dense message numbers for rows by sorted key columns; returns (number per row, order)."""
    order = np.lexsort(tuple(reversed(keys)))
    change = np.zeros(len(order), bool)
    if len(order):
        change[0] = True
        for k in keys:
            ks = k[order]
            change[1:] |= ks[1:] != ks[:-1]
    ids_sorted = np.cumsum(change) - 1
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = ids_sorted
    return ids, order


class _Out:
    """Collects files of one dataset: writes them, counts them per kind and iJw release.

    The messages of the region in :attr:`zip_regio` go into one zip archive per month
    (of their Dagtekening) instead: ``berichten/<regio>/<jaar>/<regio>_<jaarmaand>.zip``,
    members named by their path below ``berichten/<regio>/``.
    """

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, int] = {}
        self.bytes = 0
        self.records: dict[str, int] = {}
        self.per_release: dict[str, dict[str, dict[str, int]]] = {}
        self.zip_regio: str | None = None
        self._zips: dict[str, zipfile.ZipFile] = {}
        self.zip_members = 0
        self.zip_archives: list[str] = []

    def write(self, kind: str, items, n_records: int, releases=None, months=None):
        """Write ``(path, bytes)`` items; ``releases``/``months`` per item (message)."""
        items = list(items)
        if self.zip_regio is not None and months is not None:
            prefix = f"berichten/{self.zip_regio}/"
            loose = []
            for (path, data), month in zip(items, months):
                if path.startswith(prefix):
                    self._zip(month).writestr(self._info(path[len(prefix):], month), data)
                    self.zip_members += 1
                    self.bytes += len(data)
                else:
                    loose.append((path, data))
            self.bytes += writer.write_messages(self.root, loose)
        else:
            self.bytes += writer.write_messages(self.root, items)
        self.files[kind] = self.files.get(kind, 0) + len(items)
        self.records[kind] = self.records.get(kind, 0) + int(np.sum(n_records))
        if releases is not None:
            per = self.per_release.setdefault(kind, {})
            for rel, n in zip(releases, np.broadcast_to(n_records, (len(items),))):
                d = per.setdefault(rel, {"berichten": 0, "records": 0})
                d["berichten"] += 1
                d["records"] += int(n)
        return items

    def _zip(self, month: str) -> zipfile.ZipFile:
        zf = self._zips.get(month)
        if zf is None:
            rel = f"berichten/{self.zip_regio}/{month[:4]}/{self.zip_regio}_{month}.zip"
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            zf = self._zips[month] = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
            self.zip_archives.append(rel)
        return zf

    @staticmethod
    def _info(name: str, month: str) -> zipfile.ZipInfo:
        # fixed time stamp and attributes: the same seed gives the same bytes
        zi = zipfile.ZipInfo(name, date_time=(int(month[:4]), int(month[4:]), 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = 0o644 << 16
        return zi

    def close_zips(self) -> None:
        for zf in self._zips.values():
            zf.close()
        self._zips = {}


def _release_of(days: np.ndarray) -> np.ndarray:
    """iJw release of a message by its date: 3.0 before 2022, 3.1 in 2022, 3.2 from 2023
    (roughly the release calendar; the demo's years before 2021 use 3.0 too)."""
    y = _year_of(np.asarray(days, dtype=np.int64))
    return np.where(y < 2022, "3.0", np.where(y == 2022, "3.1", "3.2")).astype(object)


def _render_write(out: _Out, kind: str, df: pd.DataFrame, path_of: dict, chunk_col: str | None = None,
                  keep=None):
    """Render ``df`` (column ``bericht`` = message number) and write; paths from ``path_of``."""
    if len(df) == 0:
        return []
    written = []
    chunks = [df] if chunk_col is None else [g for _, g in df.groupby(chunk_col, sort=True)]
    for part in chunks:
        items = writer.render(kind, part)
        g = part.groupby("bericht", sort=False)
        keys = [k for k, _b in items]
        n_rec = g.size().reindex(keys).to_numpy()
        rel = g["release"].first().reindex(keys).tolist()
        months = pd.to_datetime(g["dagtekening"].first().reindex(keys)).dt.strftime("%Y%m").tolist()
        items = [(path_of[k], b) for k, b in items]
        out.write(kind, items, n_rec, releases=rel, months=months)
        if keep is not None:
            written.extend((p, b) for p, b in items if keep(p))
    return written


def _per_message_max(mid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The largest value within each message, per row (vectorised)."""
    top = np.full(int(mid.max()) + 1 if len(mid) else 0, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(top, mid, values.astype(np.int64))
    return top[mid]


def _write_region(out: _Out, reg: Region, f: dict, lines: pd.DataFrame, compact: bool = False) -> dict:
    """Write every message of one region; returns per-kind record counts of bad-BSN clients.

    ``compact`` (national scale): one JW301/JW305/JW307/JW315 per client x aanbieder
    holding all its products (each ToegewezenProduct with its own version stamp, as
    a JW301 that lists all current toewijzingen does), dated at the latest of them,
    and one JW323 per aanbieder x gemeente x year (DeclaratiePeriode the year); the
    canonical tables are the same, the number of files is about six times smaller.
    """
    rng = f["rng"]
    tw, ver, clients = f["tw"], f["ver"], f["clients"]
    agb_codes = f["agb_codes"]
    gcodes = np.array(reg.gemeenten, dtype=object)
    ridx = reg.index
    bad_client = clients["role"].to_numpy() == 2
    bad = {}
    dups = []

    # ---------- JW301: one message per client x aanbieder x version stamp
    t = ver["t"].to_numpy()
    cl = tw["client"].to_numpy()[t]
    ag = tw["agb"].to_numpy()[t]
    date = ver["date"].to_numpy()
    sec = ver["sec"].to_numpy()
    gem = tw["gem"].to_numpy()[t]
    # products of the same client, aanbieder and stamp share one message
    mid, _ = _msg_ids([gem, cl, ag] if compact else [gem, _year_of(date), date, sec, cl, ag])
    if compact:
        date = _per_message_max(mid, date)
    prod = tw["prod"].to_numpy()[t]
    eind = ver["eind"].to_numpy()
    vol = ver["volume"].to_numpy()
    eenh = _P_EENHEID[prod]
    budget = np.where(eenh == "83", vol * 100, -1)
    traject = _FIN[prod] == "traject"
    df = pd.DataFrame({
        "bericht": mid, "gemeentecode": gcodes[gem], "agb": agb_codes[ag],
        "identificatie": np.char.add(f"1{ridx:02d}", np.char.zfill(mid.astype("U9"), 9)).astype(object),
        "dagtekening": _dates(date), **_client_cols(f, cl),
        "toewijzing_nr": tw["nr"].to_numpy()[t], "productcategorie": _P_CAT[prod], "productcode": _P_CODE[prod],
        "versie_ts": _dates(ver["date"].to_numpy()).astype("datetime64[s]") + sec.astype("timedelta64[s]"),
        "ingangsdatum": _dates(tw["start"].to_numpy()[t]),
        "einddatum": np.where(eind < 0, np.datetime64("NaT"), _dates(np.maximum(eind, 0))),
        "reden_wijziging": np.where(ver["reden"].to_numpy() == "", None, ver["reden"].to_numpy()),
        "volume": np.where(traject, 1, vol), "eenheid": eenh,
        "frequentie": np.where(traject, "6", _P_FREQ[prod]),
        "budget_cent": pd.array(np.where(budget >= 0, budget, 0), dtype="Int64"),
        "release": _release_of(date),
    })
    df.loc[budget < 0, "budget_cent"] = pd.NA
    df["_year"] = _year_of(date)
    df["_bad"] = bad_client[cl]
    df = df.sort_values(["bericht", "toewijzing_nr", "versie_ts"], kind="mergesort")
    first = df.drop_duplicates("bericht")
    path_of = dict(zip(first["bericht"], [
        f"berichten/{reg.code}/{g}/JW301/{y}/JW301_{g}_{a}_{i}.xml"
        for g, a, y, i in zip(first["gemeentecode"], first["agb"], first["_year"], first["identificatie"])]))
    bad["JW301"] = int(bad_client[cl].sum())
    n_dup = max(1, int(round(len(first) * 0.0004)))
    clean_msgs = np.setdiff1d(first["bericht"].to_numpy(), df["bericht"].to_numpy()[df["_bad"].to_numpy()])
    dup_msgs = set(rng.choice(clean_msgs, n_dup, replace=False).tolist())
    dup_paths = {path_of[m] for m in dup_msgs}
    dups += [("JW301", p, b) for p, b in _render_write(out, "JW301", df, path_of, chunk_col="_year",
                                                          keep=lambda p: p in dup_paths)]
    dup_rec301 = int(df["bericht"].isin(dup_msgs).sum())

    # ---------- JW305 / JW307: per client x aanbieder x day
    normal = f["normal_kind"]
    ti = np.flatnonzero(normal)
    start = tw["start"].to_numpy()[ti]
    end = tw["end"].to_numpy()[ti]
    beg = start + rng.integers(0, 8, len(ti))
    beg = np.minimum(beg, np.maximum(end, start))
    # aanbieders send start and stop messages in a weekly batch (Friday after the date)
    dag5 = beg + 1 + (4 - (beg + 4) % 7) % 7
    k5 = dag5 <= EXTRACT_D
    s5 = ti[k5]
    start_rows = dict(t=s5, beg=beg[k5], dag=dag5[k5])
    reden = tw["reden"].to_numpy()[ti]
    has_stop = (reden != "") & (rng.random(len(ti)) < 0.92)
    dag7 = end + 1 + (4 - (end + 4) % 7) % 7
    k7 = has_stop & (dag7 <= EXTRACT_D)
    s7 = ti[k7]
    n_stop_31 = 0
    corrections = {}
    for kind, tt, b, d in (("JW305", s5, beg[k5], dag5[k5]), ("JW307", s7, beg[k7], dag7[k7])):
        # corrections (iJw IV028): some records go out with a wrong date (JW305 Begindatum,
        # JW307 Einddatum), are deleted a week later (StatusAanlevering 3, the same record)
        # and sent again correctly (status 1, the next day)
        e = tw["end"].to_numpy()[tt]
        okc = np.flatnonzero((~bad_client[tw["client"].to_numpy()[tt]]) & (d + 14 <= EXTRACT_D)
                             & (e > b + 10))
        n_corr = min(len(okc), max(1, int(round(len(tt) * _CORRECTIE_START_STOP))))
        ci = np.sort(rng.choice(okc, n_corr, replace=False)) if n_corr else np.zeros(0, np.int64)
        shift = rng.integers(1, 6, n_corr)
        b_w, e_w = b.copy(), e.copy()
        if kind == "JW305":
            b_w[ci] = b[ci] + shift
        else:
            e_w[ci] = e[ci] - shift
        tt = np.concatenate([tt, tt[ci], tt[ci]])
        b = np.concatenate([b_w, b_w[ci], b[ci]])
        e = np.concatenate([e_w, e_w[ci], e[ci]])
        d = np.concatenate([d, d[ci] + 7, d[ci] + 8])
        phase = np.repeat(np.arange(3), [len(b_w), n_corr, n_corr])
        status = np.where(phase == 1, "3", "1").astype(object)
        corrections[kind] = int(n_corr)
        c = tw["client"].to_numpy()[tt]
        a = tw["agb"].to_numpy()[tt]
        gm = tw["gem"].to_numpy()[tt]
        mid, _ = _msg_ids([gm, c, a, phase] if compact else [gm, _year_of(d), d, c, a, phase])
        if compact:
            d = _per_message_max(mid, d)
        p = tw["prod"].to_numpy()[tt]
        df = pd.DataFrame({
            "bericht": mid, "gemeentecode": gcodes[gm], "agb": agb_codes[a],
            "identificatie": np.char.add(f"{3 if kind == 'JW305' else 4}{ridx:02d}",
                                         np.char.zfill(mid.astype("U9"), 9)).astype(object),
            "dagtekening": _dates(d), **_client_cols(f, c), "toewijzing_nr": tw["nr"].to_numpy()[tt],
            "productcategorie": _P_CAT[p], "productcode": _P_CODE[p],
            "ingangsdatum": _dates(tw["start"].to_numpy()[tt]), "begindatum": _dates(b), "_year": _year_of(d),
            "status_aanlevering": status, "release": _release_of(d),
        })
        if kind == "JW307":
            df["reden_beeindiging"] = tw["reden"].to_numpy()[tt]
            df["einddatum"] = _dates(e)
            n_stop_31 = int((df["reden_beeindiging"].to_numpy()[phase == 0] == "31").sum())
        df = df.sort_values(["bericht", "toewijzing_nr"], kind="mergesort")
        first = df.drop_duplicates("bericht")
        path_of = dict(zip(first["bericht"], [
            f"berichten/{reg.code}/{g}/{kind}/{y}/{kind}_{a}_{g}_{i}.xml"
            for g, a, y, i in zip(first["gemeentecode"], first["agb"], first["_year"], first["identificatie"])]))
        bad[kind] = int(bad_client[c].sum())
        _render_write(out, kind, df.drop(columns="_year"), path_of)

    # ---------- JW315: verzoek om toewijzing for part of the zorgpaden (first toewijzing)
    path = tw["path"].to_numpy()
    first_tw = normal & (path >= 0) & (tw["seq"].to_numpy() == 1)
    vi = np.flatnonzero(first_tw & (rng.random(len(tw)) < 0.4))
    vdag = tw["start"].to_numpy()[vi] - rng.integers(10, 40, len(vi))
    kv = vdag <= EXTRACT_D
    vi, vdag = vi[kv], vdag[kv]
    c = tw["client"].to_numpy()[vi]
    a = tw["agb"].to_numpy()[vi]
    gm = tw["gem"].to_numpy()[vi]
    p = tw["prod"].to_numpy()[vi]
    mid, _ = _msg_ids([gm, c, a] if compact else [gm, _year_of(vdag), vdag, c, a])
    if compact:
        vdag = _per_message_max(mid, vdag)
    vt = rng.choice(_VERWIJZER[0], len(vi), p=_VERWIJZER[1])
    traject = _FIN[p] == "traject"
    vol = tw["volume"].to_numpy()[vi]
    df = pd.DataFrame({
        "bericht": mid, "gemeentecode": gcodes[gm], "agb": agb_codes[a],
        "identificatie": np.char.add(f"2{ridx:02d}", np.char.zfill(mid.astype("U9"), 9)).astype(object),
        "dagtekening": _dates(vdag), **_client_cols(f, c),
        "referentie": np.char.add(np.char.add("V", np.char.zfill(gm.astype("U3"), 3)),
                                  np.char.add("-", tw["nr"].to_numpy()[vi].astype("U9"))).astype(object),
        "productcategorie": _P_CAT[p], "productcode": _P_CODE[p],
        "ingangsdatum": _dates(tw["start"].to_numpy()[vi]),
        "einddatum": np.where(tw["open"].to_numpy()[vi], np.datetime64("NaT"),
                              _dates(tw["plan_end"].to_numpy()[vi])),
        "volume": np.where(traject, 1, vol), "eenheid": _P_EENHEID[p],
        "frequentie": np.where(traject, "6", _P_FREQ[p]), "verwijzer_type": vt,
        "verwijzer_agb": np.where(np.isin(vt, ["02", "03", "05"]),
                                  np.char.add("0100", np.char.zfill((c % 10000).astype("U4"), 4)), None),
        "_year": _year_of(vdag), "release": _release_of(vdag),
    })
    df = df.sort_values(["bericht"], kind="mergesort")
    first = df.drop_duplicates("bericht")
    path_of = dict(zip(first["bericht"], [
        f"berichten/{reg.code}/{g}/JW315/{y}/JW315_{a}_{g}_{i}.xml"
        for g, a, y, i in zip(first["gemeentecode"], first["agb"], first["_year"], first["identificatie"])]))
    bad["JW315"] = int(bad_client[c].sum())
    _render_write(out, "JW315", df.drop(columns="_year"), path_of)
    verwijzers = pd.Series(vt).value_counts().sort_index().to_dict()

    # ---------- JW323: one per aanbieder x gemeente x declaratieperiode x submission day
    L = lines
    c = L["client"].to_numpy()
    a = L["agb"].to_numpy()
    gm = L["gem"].to_numpy()
    month = L["month"].to_numpy()
    dag = L["dag"].to_numpy()
    mid, _ = _msg_ids(_jw323_keys(L, compact))
    if compact:
        yr = _year_of(_month_start(month))
        dag = _per_message_max(mid, dag)
        L["dag"] = dag  # the date as written (the manifest's receipt figures use it)
        ms = _days(np.char.add(yr.astype("U4"), "-01-01").astype("datetime64[D]"))
        me = _days(np.char.add(yr.astype("U4"), "-12-31").astype("datetime64[D]"))
    else:
        ms = _month_start(month)
        me = _month_start(month + 1) - 1
    p = L["prod"].to_numpy()
    df = pd.DataFrame({
        "bericht": mid, "gemeentecode": gcodes[gm], "agb": agb_codes[a],
        "identificatie": np.char.add(f"5{ridx:02d}", np.char.zfill(mid.astype("U9"), 9)).astype(object),
        "dagtekening": _dates(dag),
        "declaratie_nr": np.char.add(f"D{ridx:02d}", np.char.zfill(mid.astype("U9"), 9)).astype(object),
        "declaratie_begin": _dates(ms), "declaratie_eind": _dates(me),
        "bsn": clients["bsn_msg"].to_numpy()[c], "referentie_nr": L["ref"].to_numpy(),
        "vorig_referentie_nr": np.where(L["vorig"].to_numpy() == "", None, L["vorig"].to_numpy()),
        "toewijzing_nr": L["nr"].to_numpy(), "productcategorie": _P_CAT[p], "productcode": _P_CODE[p],
        "periode_begin": _dates(L["pb"].to_numpy()), "periode_eind": _dates(L["pe"].to_numpy()),
        "volume": L["volume"].to_numpy(), "eenheid": L["eenheid"].to_numpy(), "tarief_cent": L["tarief"].to_numpy(),
        "bedrag_cent": L["bedrag"].to_numpy(), "debet_credit": L["dc"].to_numpy(),
        "_year": _year_of(ms), "_bad": bad_client[c], "release": _release_of(dag),
    })
    df = df.sort_values(["bericht", "bsn", "toewijzing_nr", "periode_begin", "referentie_nr"], kind="mergesort")
    first = df.drop_duplicates("bericht")
    path_of = dict(zip(first["bericht"], [
        f"berichten/{reg.code}/{g}/JW323/{y}/JW323_{a}_{g}_{str(b)[:7].replace('-', '')}_{i}.xml"
        for g, a, y, b, i in zip(first["gemeentecode"], first["agb"], first["_year"], first["declaratie_begin"],
                                 first["identificatie"])]))
    bad["JW323"] = int(bad_client[c].sum())
    n_dup = max(1, int(round(len(first) * 0.0003)))
    clean_msgs = np.setdiff1d(first["bericht"].to_numpy(), df["bericht"].to_numpy()[df["_bad"].to_numpy()])
    dup_msgs = set(rng.choice(clean_msgs, n_dup, replace=False).tolist())
    dup_paths = {path_of[m] for m in dup_msgs}
    dups += [("JW323", p_, b) for p_, b in _render_write(out, "JW323", df, path_of,
                                                          chunk_col="_year",
                                                          keep=lambda p_: p_ in dup_paths)]
    dup_rec323 = int(df["bericht"].isin(dup_msgs).sum())
    dup_amt323 = int(np.where(df["debet_credit"] == "C", -1, 1)[df["bericht"].isin(dup_msgs).to_numpy()]
                     @ df["bedrag_cent"].to_numpy()[df["bericht"].isin(dup_msgs).to_numpy()])

    # ---------- JW325: the gemeente's answer to every declaration with a rejected line
    afw = L["afw"].to_numpy()
    n325 = 0
    if (afw > 0).any():
        signed = np.where(L["dc"].to_numpy() == "C", -1, 1) * L["bedrag"].to_numpy()
        tot = np.zeros(int(mid.max()) + 1, dtype=np.int64)
        np.add.at(tot, mid, signed)
        rej = np.zeros_like(tot)
        np.add.at(rej, mid[afw == 1], signed[afw == 1])
        whole_m = np.unique(mid[afw == 2])
        line = np.flatnonzero(afw == 1)
        wfirst = np.unique(mid[afw == 2], return_index=True)[1]
        wrow = np.flatnonzero(afw == 2)[wfirst]  # one row per declaration rejected whole
        rows = np.concatenate([line, wrow])
        m = mid[rows]
        is_line = np.arange(len(rows)) < len(line)
        adag = np.minimum(dag[rows] + 3 + m % 10, EXTRACT_D)
        j = pd.DataFrame({
            "bericht": m, "gemeentecode": gcodes[gm[rows]], "agb": agb_codes[a[rows]],
            "identificatie": np.char.add(f"6{ridx:02d}", np.char.zfill(m.astype("U9"), 9)).astype(object),
            "dagtekening": _dates(adag),
            "declaratie_identificatie": np.char.add(f"5{ridx:02d}", np.char.zfill(m.astype("U9"), 9)).astype(object),
            "declaratie_dagtekening": _dates(dag[rows]),
            "declaratie_nr": np.char.add(f"D{ridx:02d}", np.char.zfill(m.astype("U9"), 9)).astype(object),
            "totaal_ingediend_cent_signed": tot[m],
            "totaal_toegekend_cent_signed": np.where(np.isin(m, whole_m), 0, tot[m] - rej[m]),
            "retourcode": np.where(is_line, "0200", "0001").astype(object),
            "bsn": np.where(is_line, clients["bsn_msg"].to_numpy()[c[rows]], None),
            "referentie_nr": L["ref"].to_numpy()[rows], "toewijzing_nr": L["nr"].to_numpy()[rows],
            "productcategorie": _P_CAT[p[rows]], "productcode": _P_CODE[p[rows]],
            "periode_begin": _dates(L["pb"].to_numpy()[rows]), "periode_eind": _dates(L["pe"].to_numpy()[rows]),
            "volume": L["volume"].to_numpy()[rows], "eenheid": L["eenheid"].to_numpy()[rows],
            "tarief_cent": L["tarief"].to_numpy()[rows], "bedrag_cent_signed": signed[rows],
            "retourcodes": L["retour"].to_numpy()[rows], "release": _release_of(adag),
        })
        j = j.sort_values(["bericht", "bsn", "toewijzing_nr", "periode_begin", "referentie_nr"], kind="mergesort")
        first = j.drop_duplicates("bericht")
        path_of = dict(zip(first["bericht"], [
            f"berichten/{reg.code}/{g}/JW325/{str(d_)[:4]}/JW325_{g}_{a_}_{i}.xml"
            for g, a_, d_, i in zip(first["gemeentecode"], first["agb"], first["dagtekening"],
                                    first["identificatie"])]))
        _render_write(out, "JW325", j, path_of)
        n325 = len(first)
        # a declaration whose lines were all rejected one by one is granted nothing either:
        # ingest adds its whole-declaration row (TotaalToegekendBedrag 0) beside the lines
        fz = first[(first["totaal_toegekend_cent_signed"] == 0) & (first["totaal_ingediend_cent_signed"] != 0)
                   & first["bsn"].notna()]
        n_zero_lines = len(fz)
        out.records["JW325"] += n_zero_lines
        for rel in fz["release"]:
            out.per_release["JW325"][rel]["records"] += 1
    else:
        n_zero_lines = 0
    # duplicate files: the same message once more under another name (as archives hold them)
    items = [(p_.replace(".xml", "_kopie.xml"), b) for _, p_, b in sorted(dups)]
    kinds = [k for k, _, _ in sorted(dups)]
    writer.write_messages(out.root, items)
    for k, (_p, b) in zip(kinds, items):
        out.files[k] += 1
        rel = next(r for r in config.RELEASES if f"/ijw/{r.replace('.', '_')}/".encode() in b[:400])
        d = out.per_release[k][rel]
        d["berichten"] += 1
        d["records"] += b.count(b"<jw301:ToegewezenProduct>" if k == "JW301" else b"<jw323:Prestatie>")
    out.records["JW301"] += dup_rec301
    out.records["JW323"] += dup_rec323
    return {"bsn_ongeldig_records": bad, "jw307_reden_31": n_stop_31, "correcties_start_stop": corrections,
            "jw325_berichten": n325, "jw325_alle_regels_afgewezen": n_zero_lines,
            "dubbele_bestanden": {"JW301": kinds.count("JW301"), "JW323": kinds.count("JW323"),
                                  "JW301_records": dup_rec301, "JW323_records": dup_rec323,
                                  "JW323_bedrag_cent": dup_amt323,
                                  "bestanden": [p_ for p_, _ in items]},
            "verwijzers": {str(k): int(v) for k, v in verwijzers.items()},
            "start_rows": len(s5), "stop_rows": len(s7)}


# ------------------------------------------------------------------ reference tables
def _read_gemeenten(path) -> pd.DataFrame:
    if isinstance(path, pd.DataFrame):
        return path[["gemeentecode", "gemeentenaam", "regio_code", "regio_naam"]].astype(object).reset_index(
            drop=True)
    path = Path(path)
    if not path.exists():
        raise JeugdlibError("gemeentetabel niet gevonden", path=path)
    try:
        df = pd.read_csv(path, dtype=str, sep=None, engine="python", encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parse problem is the user's input
        raise JeugdlibError(f"gemeentetabel onleesbaar ({exc.__class__.__name__})", path=path) from None
    need = ["gemeentecode", "gemeentenaam", "regio_code", "regio_naam"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise JeugdlibError(f"kolom(men) {', '.join(miss)} ontbreken", path=path)
    df = df[need].dropna().copy()
    df["gemeentecode"] = df["gemeentecode"].str.strip().str.zfill(4)
    bad = ~df["gemeentecode"].str.fullmatch(r"\d{4}")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise JeugdlibError(f"gemeentecode {df['gemeentecode'].iloc[i]!r} is geen viercijferige code",
                            path=path, record=f"regel {i + 2}")
    return df.drop_duplicates("gemeentecode").reset_index(drop=True)


def _regions(gem: pd.DataFrame, scale: float, national: bool) -> list[Region]:
    profiles = _profiles()
    regs = []
    keys = gem[["regio_code", "regio_naam"]].drop_duplicates().sort_values("regio_code")
    for i, (rc, rn) in enumerate(keys.itertuples(index=False), start=1):
        codes = sorted(gem.loc[gem["regio_code"] == rc, "gemeentecode"].tolist())
        prof = dataclasses.replace(profiles[rn]) if rn in profiles else _generic_profile(rc)
        if national:
            prof.size = 1.0
        regs.append(Region(index=i, code=rc, naam=rn, gemeenten=codes, inwoners=_inwoners(codes), profile=prof,
                           scale=scale))
    return regs


def _csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


# ------------------------------------------------------------------ the dataset
def _demo_regio(reg: Region, seed: int, out: Path, compact: bool, zip_code: str | None, scale: float) -> dict:
    """Generate and write one region of the demo (its messages below ``out``) and return
    what the manifest and the reference tables need of it. Regions draw from their own
    random streams (seeded by the seed and the region code), so they can be written in
    any order or at once: the same seed gives the same bytes."""
    g = _gen_region(reg, seed)
    f = _finish_region(reg, g)
    dec = _declaraties(reg, f)
    lines, man_d, prod_year = _lag_and_dirt(reg, f, dec, compact=compact)
    del dec
    o = _Out(out)
    o.zip_regio = reg.code if reg.code == zip_code else None
    try:
        wm = _write_region(o, reg, f, lines, compact=compact)
    finally:
        o.close_zips()
    # rows ingest writes to afwijzingen: rejected lines, declarations rejected whole, and a
    # whole-declaration row for every declaration all of whose lines were rejected
    man_d["afwijzingen"]["afwijzingen_rijen"] += wm["jw325_alle_regels_afgewezen"]
    tw, ver, clients = f["tw"], f["ver"], f["clients"]
    role = clients["role"].to_numpy()
    agb_codes = f["agb_codes"]
    # ---- what ingest and cleaning must find (valid BSN only; bad BSN is quarantined)
    v_role = role[tw["client"].to_numpy()[ver["t"].to_numpy()]]
    dup = wm["dubbele_bestanden"]
    v_ok = v_role != 2
    n_versies = int(v_ok.sum())
    n_tw = int(len(np.unique(ver["t"].to_numpy()[v_ok])))
    old_t = np.unique(ver["t"].to_numpy()[v_role == 1])
    l_role = role[lines["client"].to_numpy()]
    l_ok = l_role != 2
    key = (lines["gem"].astype(str) + "|" + lines["nr"].astype(str) + "|" + lines["prod"].astype(str) + "|"
           + lines["pb"].astype(str) + "|" + lines["pe"].astype(str)).to_numpy()
    # lines rejected in a JW325 are left out before netting (metrics.md 0.2)
    rej = lines["afw"].to_numpy() > 0
    l_keep = l_ok & ~rej
    n_items = len(np.unique(key[l_keep]))
    old_items = len(np.unique(key[l_role == 1]))
    signed = np.where(lines["dc"].to_numpy() == "C", -1, 1) * lines["bedrag"].to_numpy()
    tw_roles = role[tw["client"].to_numpy()]
    up_t = tw["unknown_prod"].to_numpy() & (tw["kind"].to_numpy() == "normaal")
    ua_t = tw["unknown_agb"].to_numpy() & (tw["kind"].to_numpy() == "normaal")
    lt = lines["t"].to_numpy()
    l_up = np.where(lt >= 0, up_t[np.maximum(lt, 0)], False)
    l_ua = np.where(lt >= 0, ua_t[np.maximum(lt, 0)], False)
    # numbers that occur in more than one gemeente of the region (per gemeente sequences)
    # (over the toewijzingen written with a valid BSN: what ingest keeps)
    nr_gem = tw.iloc[np.unique(ver["t"].to_numpy()[v_ok])][["nr", "gem"]].drop_duplicates()
    shared_nr = nr_gem.groupby("nr").size()
    shared_nr = shared_nr[shared_nr > 1]
    # receipt: days from the end of the declared period to DeclaratieDagtekening
    # (lines of clients with a valid BSN, each once: what ingest keeps)
    lag_d = (lines["dag"].to_numpy() - lines["pe"].to_numpy())[l_ok]
    lag_max = int(lag_d.max()) if len(lag_d) else 0
    rv = {
        "toewijzingnummers_per_gemeente": {
            "nummers_in_meer_gemeenten": int(len(shared_nr)),
            "toewijzingen_met_gedeeld_nummer": int(nr_gem["nr"].isin(shared_nr.index).sum())},
        "declaratiedatum": {"regels": int(len(lag_d)), "binnen_31_dagen": int((lag_d <= 31).sum()),
                            "binnen_92_dagen": int((lag_d <= 92).sum()),
                            "meer_dan_183_dagen": int((lag_d > 183).sum())},
        "correcties_start_stop": wm["correcties_start_stop"],
        "jw325_berichten": wm["jw325_berichten"],
        "jw325_alle_regels_afgewezen": wm["jw325_alle_regels_afgewezen"],
        "bsn_ongeldig": {"clienten": int((role == 2).sum()), "records": wm["bsn_ongeldig_records"]},
        "clienten_ouder_dan_21": {"clienten": int((role == 1).sum()), "toewijzingen": int(len(old_t)),
                                  "declaratieposten": int(old_items)},
        "onbekende_producten": {"code": UNKNOWN_PRODUCT, "toewijzingen": int(up_t.sum()),
                                "regels": int(l_up.sum()), "bedrag_cent": int(signed[l_up].sum())},
        "onbekende_agb": {"agb": sorted(set(agb_codes[tw["agb"].to_numpy()[ua_t]].tolist())),
                          "toewijzingen": int(ua_t.sum()), "regels": int(l_ua.sum()),
                          "bedrag_cent": int(signed[l_ua].sum())},
        "korte_trajecten_volledig_gedeclareerd": int((tw["full"].to_numpy()
                                                      & (tw["kind"].to_numpy() == "normaal")).sum()),
        **f["man"], **man_d,
        "dubbele_bestanden": dup,
    }
    ev = {
        "toewijzingen": {"versies": n_versies, "toewijzingen": n_tw,
                         "oudere_versie": n_versies - n_tw,
                         "reden_wijziging_13": f["man"]["ingetrokken_rw13"],
                         "einde_voor_ingang": f["man"]["einde_voor_ingang"], "leeftijd": int(len(old_t))},
        "declaraties": {"regels": int(l_ok.sum()), "afgewezen": int((l_ok & rej).sum()),
                        "posten": int(n_items),
                        "saldering": int(l_keep.sum()) - int(n_items),
                        "netto_nul_creditering": man_d["creditering_opheffend"],
                        "netto_nul_bedrag": man_d["nul_bedrag"], "leeftijd": int(old_items),
                        "bedrag_cent": int(signed[l_ok].sum()),
                        "bedrag_cent_na_opschonen": int(signed[l_keep & (l_role != 1)].sum())},
        # a correction: the deleted record and the deletion (StatusAanlevering 3) go (0.2b)
        "start_stop": {"start_stop_verwijderd": 2 * sum(wm["correcties_start_stop"].values())},
    }
    # ---- reference rows
    a = f["aanbieders"]
    aanb = a[["agb", "naam", "type", "gecontracteerd_vanaf", "gecontracteerd_tot"]]
    plek_rows, plaf_rows, bev_rows = [], [], []
    pl = tw[(_FIN[tw["prod"].to_numpy()] == "plek")]
    if len(pl):
        for y in (2019, 2020, 2021):
            ys, ye = _days(np.datetime64(f"{y}-01-01")), _days(np.datetime64(f"{y}-12-31"))
            act = pl[(pl["start"] <= ye) & (pl["end"] >= ys)]
            occ = (np.minimum(act["end"], ye) - np.maximum(act["start"], ys) + 1).groupby(
                [act["agb"], act["prod"]]).sum() / (ye - ys + 1)
            for (ai, pi), v in occ.items():
                plek_rows.append({"agb": agb_codes[ai], "productcode": _P_CODE[pi], "jaar": y,
                                  "plekken": round(float(np.round(v)), 0),
                                  "prijs_per_plek": f"{_price_cent(np.array([pi]), np.array([y]))[0] / 100:.2f}"})
    py = prod_year.reset_index()
    plaf = reg.profile.plafond or {y: 1.05 for y in (2021, 2022, 2023)}
    if not reg.profile.plafond:
        plaf_rows += _plafonds_stoplicht(lines, py, agb_codes, len(a))
    for y, frac in sorted(plaf.items()):
        prev = py[py["year"] == y - 1].sort_values("bedrag", ascending=False).head(
            30 if reg.profile.plafond else 10)
        prev = prev[prev["agb"] < len(a)]
        for ai, b in zip(prev["agb"], prev["bedrag"]):
            plaf_rows.append({"agb": agb_codes[ai], "jaar": y, "plafond": f"{b * frac / 100:.2f}",
                              "productcode": "", "gemeentecode": ""})
    fac = reg.profile.size * scale
    for c, inw in zip(reg.gemeenten, reg.inwoners):
        for y in range(2019, 2025):
            bev_rows.append({"gemeentecode": c, "jaar": y,
                             "jeugdigen": int(round(inw * 0.19 * fac * (1 - 0.004 * (y - 2019))))})
    reg_man = ({"regio_code": reg.code, "regio_naam": reg.naam, "gemeenten": reg.gemeenten,
                    "grootte": reg.profile.size * scale, "clienten": int(len(np.unique(
                        tw["client"].to_numpy()))), "toewijzingen": int(len(tw)),
                    "declaratieregels": int(len(lines)), "jw307_reden_31": wm["jw307_reden_31"],
                    "verwijzers": wm["verwijzers"]})
    return {"rv": rv, "ev": ev, "aanbieders": aanb, "plekken": plek_rows, "plafonds": plaf_rows,
            "bevolking": bev_rows, "regio": reg_man, "lag_max": lag_max,
            "out": {"files": o.files, "records": o.records, "per_release": o.per_release, "bytes": o.bytes,
                    "zip_members": o.zip_members, "zip_archives": o.zip_archives}}


def _per_regio(regs: list[Region], seed: int, out: Path, compact: bool, zip_code: str | None, scale: float,
               workers: int | None = None):
    """:func:`_demo_regio` for every region, yielded in region order: in a pool of
    processes (one per core, at most one per region) when there are several regions and
    cores, each writing its own region's files (the demo's 4 regions: 32 s -> 20 s on
    two cores). ``workers``: at most this many processes (default: the cores)."""
    import os

    workers = min(len(regs), workers or os.cpu_count() or 1)
    if workers <= 1:
        for reg in regs:
            yield _demo_regio(reg, seed, out, compact, zip_code, scale)
        return
    import concurrent.futures as cf
    import multiprocessing

    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        futs = [ex.submit(_demo_regio, reg, seed, out, compact, zip_code, scale) for reg in regs]
        try:
            for fut in futs:
                yield fut.result()
        finally:
            for fut in futs:
                fut.cancel()


def write_demo(out, *, scale: float = 1.0, seed: int = 2024, gemeenten=None, quiet: bool = True,
               workers: int | None = None) -> dict:
    """Write the synthetic demo dataset to ``out`` and return its manifest (also written
    to ``out/manifest.json``).

    ``scale`` multiplies the number of clients; ``gemeenten`` is a gemeente->regio CSV
    (columns gemeentecode, gemeentenaam, regio_code, regio_naam), default the four
    demo regions of calibration.md at their demo sizes. With a table every region is
    generated at full size (national scale). Same seed, same bytes, whatever ``workers``
    (processes writing regions at once; default one per core).
    """
    t0 = time.perf_counter()
    if not (scale > 0):
        raise JeugdlibError(f"--scale moet groter dan 0 zijn, niet {scale}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").exists():
            raise JeugdlibError("doelmap bestaat al en is geen demodataset; kies een lege map", path=out)
        import shutil
        for sub in ("berichten", "referentie"):
            shutil.rmtree(out / sub, ignore_errors=True)
        (out / "manifest.json").unlink()
    out.mkdir(parents=True, exist_ok=True)
    national = gemeenten is not None
    gem = _read_gemeenten(gemeenten) if national else config.demo_gemeenten().astype(object)
    regs = _regions(gem, scale, national)
    o = _Out(out)
    aanb_all, plek_rows, plaf_rows, bev_rows, reg_man = [], [], [], [], []
    vuil = {}
    verwacht = {}

    def acc(d, key, v):
        if isinstance(v, dict):
            sub = d.setdefault(key, {})
            for k2, v2 in v.items():
                acc(sub, k2, v2)
        elif isinstance(v, list):
            d.setdefault(key, []).extend(v)
        elif isinstance(v, str):
            d[key] = v
        else:
            d[key] = d.get(key, 0) + v

    bar = None
    if not quiet:
        from tqdm import tqdm
        bar = tqdm(total=len(regs), desc="demo", unit="regio")
    compact = national and len(regs) > 4
    lag_max = 0
    zip_code = next((r.code for r in regs if r.code == ZIP_REGIO), regs[0].code if len(regs) > 1 else None)
    for uit in _per_regio(regs, seed, out, compact, zip_code, scale, workers):
        for k, v in uit["out"]["files"].items():
            o.files[k] = o.files.get(k, 0) + v
        for k, v in uit["out"]["records"].items():
            o.records[k] = o.records.get(k, 0) + v
        for kind, per in uit["out"]["per_release"].items():
            for rel, d in per.items():
                t = o.per_release.setdefault(kind, {}).setdefault(rel, {"berichten": 0, "records": 0})
                t["berichten"] += d["berichten"]
                t["records"] += d["records"]
        o.bytes += uit["out"]["bytes"]
        o.zip_members += uit["out"]["zip_members"]
        o.zip_archives += uit["out"]["zip_archives"]
        acc(vuil, "regios", [])
        for k, v in uit["rv"].items():
            acc(vuil, k, v)
        for k, v in uit["ev"].items():
            acc(verwacht, k, v)
        aanb_all.append(uit["aanbieders"])
        plek_rows += uit["plekken"]
        plaf_rows += uit["plafonds"]
        bev_rows += uit["bevolking"]
        reg_man.append(uit["regio"])
        lag_max = max(lag_max, uit["lag_max"])
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    ref = out / "referentie"
    _csv(producten_table(), ref / "producten.csv")
    _csv(pd.concat(aanb_all, ignore_index=True), ref / "aanbieders.csv")
    _csv(gem[["gemeentecode", "gemeentenaam", "regio_code", "regio_naam"]].sort_values(
        ["regio_code", "gemeentecode"]), ref / "gemeenten.csv")
    _csv(pd.DataFrame(plek_rows, columns=["agb", "productcode", "jaar", "plekken", "prijs_per_plek"]),
         ref / "plekken.csv")
    _csv(pd.DataFrame(plaf_rows, columns=["agb", "jaar", "plafond", "productcode", "gemeentecode"]),
         ref / "budgetplafonds.csv")
    _csv(pd.DataFrame(bev_rows), ref / "bevolking.csv")
    vuil.pop("regios", None)
    vuil.setdefault("declaratiedatum", {})["max_dagen"] = lag_max
    manifest = {
        "generator": "jeugdlib demo", "seed": seed, "scale": scale,
        "gemeenten": ("vier demoregio's (calibration.md)" if not national else
                      "tabel" if isinstance(gemeenten, pd.DataFrame) else Path(gemeenten).name),
        "periode": {"begin": str(SPAN_START), "extractdatum": str(EXTRACT)},
        "indeling": ("compact: JW301/305/307/315 per cliënt x aanbieder, JW323 per aanbieder x gemeente x jaar"
                     if national and len(regs) > 4 else
                     "JW301 per cliënt x aanbieder x versie, JW305/JW307 per cliënt x aanbieder x week, "
                     "JW315 per verzoek, JW323 per aanbieder x gemeente x declaratieperiode (maand) x indiening"),
        "bestanden": dict(sorted(o.files.items())), "records": dict(sorted(o.records.items())),
        "releases": {k: dict(sorted(v.items())) for k, v in sorted(o.per_release.items())},
        "zip": {"regio": zip_code, "archieven": len(o.zip_archives), "berichten": o.zip_members},
        "bytes": o.bytes, "regios": reg_man, "vuil": vuil,
        "verwacht_na_opschonen": verwacht,
        "toelichting": ("verwacht_na_opschonen: tellingen van jeugdlib.clean met een peildatum na de "
                        "extractdatum (geen afkap), op de records die ingest behoudt: zonder ongeldige BSN's en "
                        "zonder de dubbele bestanden (die ingest als dubbel_bericht in quarantaine zet)."),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=False) + "\n",
                                       encoding="utf-8")
    if not quiet:
        n = sum(o.files.values())
        print(f"demodataset geschreven naar {out}: {n} berichten, {o.bytes / 1e6:.0f} MB, "
              f"{time.perf_counter() - t0:.0f} s")
    return manifest


#: The region whose monthly deliveries arrive zipped (one archive per month); with another
#: gemeente table the first region, when there are several.
ZIP_REGIO = "JZ42"


#: The small fixture dataset in tests/fixtures/mini: two regions at a small scale.
MINI_REGIOS = ("Noord-Limburg", "Midden-Limburg Oost")
MINI_SCALE = 0.004
MINI_SEED = 7


def write_mini(out=None) -> dict:
    """(Re)generate the committed fixture ``tests/fixtures/mini`` (two regions, small).

    Same bytes on every run; ``python -m jeugdlib.demo --mini`` does the same.
    """
    out = Path(out) if out is not None else config.FIXTURE_DIR / "mini"
    gem = config.demo_gemeenten()
    gem = gem[gem["regio_naam"].isin(MINI_REGIOS)]
    return write_demo(out, scale=MINI_SCALE, seed=MINI_SEED, gemeenten=gem)


def main(args) -> int:
    """``jeugdlib demo``: write the demo dataset (data-contract section 4)."""
    out = Path(args.out) if args.out else config.DEMO_DATASET
    write_demo(out, scale=args.scale, seed=args.seed, gemeenten=args.gemeenten, quiet=args.quiet)
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    if sys.argv[1:] == ["--mini"]:
        m = write_mini()
        print(f"tests/fixtures/mini: {sum(m['bestanden'].values())} berichten, {m['bytes'] / 1e6:.1f} MB")
    else:
        print("gebruik: python -m jeugdlib.demo --mini   (of: jeugdlib demo ...)")
