"""Report 7, Datakwaliteit (reports.md): what was read, kept and quarantined, and the
data-quality lists of cleaning.

Sources: the ingest record (``ingest_telling``, ``quarantaine``: whole dataset, per
input file and record type), the cleaning counts (``Cleaned.telling``) and lists
(``Cleaned.signalen``) of this region, the raw views of the engine (``ruw_<table>``:
JW325 rejections, declaratiedatum, StatusAanlevering, iJw release) and the
completeness curve of the declarations (:func:`jeugdlib.forecast.volledigheid`,
metrics.md 0.2 "Declaration lag").

Every table a section shows is computed by a small public function that returns a
DataFrame (``afwijzingen_per_code``, ``meerdere_clienten``, ``ingediend_na_peildatum``,
``start_stop_correcties``, ``ijw_releases``, ``overgeslagen``, ``volledigheidscurve``,
``recente_maanden``); the section functions (taking a :class:`Rapport`) only format
and display them. The sentences of the Samenvatting are built from the same numbers.

Privacy: these lists are of records, lines and toewijzingen, never of clients; a
count of clients (``cliënten``) is suppressed below ``klein_aantal`` by
:func:`opmaak.tabel`. No client id, BSN or birth date is shown.
"""

from __future__ import annotations

import pandas as pd

from .. import config, engine, fmt, forecast, plots
from ..metrics._common import datum
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, toon
from .toelichting import quarantaine_tabel

#: The iJw message of each canonical data table (start_stop carries its own in ``bericht``).
BERICHT = {"toewijzingen": "JW301", "declaraties": "JW323", "afwijzingen": "JW325", "verzoeken": "JW315"}


def _euro(cent) -> float:
    return float(pd.to_numeric(pd.Series(cent), errors="coerce").fillna(0).sum()) / 100


def _peil(c) -> str:
    return datum(c.params.peildatum)


def _kolommen(c, view: str) -> set[str]:
    return {r[0] for r in c.con.execute(f"DESCRIBE {view}").fetchall()}


# --------------------------------------------------------------------------- tables


def afwijzingen_per_code(c) -> pd.DataFrame:
    """Declaration lines left out as rejected in a JW325 (metrics.md 0.2, rule
    ``afgewezen``), per RetourCode: ``retourcode``, ``regels`` (lines), ``bedrag_cent``
    (their ingediend bedrag, signed). The lines are those the cleaning removed: of a
    JW325 dated before the peildatum (or undated), with periode_begin before the
    peildatum and not declared on or after it; a prestatie (``referentie_nr``) or a
    whole declaration (``referentie_nr`` empty) of the same aanbieder, gemeente and
    DeclaratieNummer. A line rejected with two codes counts under each code (see
    :func:`afwijzingen_totaal` for the distinct lines). Sorted by lines, descending."""
    out = engine.df(c.con, f"""
        WITH {_afgewezen_sql(c)}
        SELECT retourcode, count(*) AS regels, coalesce(sum(bedrag), 0)::BIGINT AS bedrag_cent
        FROM afgewezen_regels GROUP BY retourcode ORDER BY regels DESC, retourcode""")
    return out.astype({"retourcode": "string", "regels": "int64", "bedrag_cent": "int64"})


def afwijzingen_totaal(c) -> tuple[int, int]:
    """(lines, eurocent) of all declaration lines left out as rejected, each line once."""
    r = c.con.execute(f"""
        WITH {_afgewezen_sql(c)}
        SELECT count(*), coalesce(sum(bedrag), 0)::BIGINT
        FROM (SELECT DISTINCT rij, bedrag FROM afgewezen_regels)""").fetchall()[0]
    return int(r[0]), int(r[1])


def _afgewezen_sql(c) -> str:
    """CTEs ending in ``afgewezen_regels`` (rij, bedrag, retourcode): one row per rejected
    line and RetourCode, as the cleaning's rule ``afgewezen`` (jeugdlib.clean)."""
    peil = _peil(c)
    return f"""
        codes AS (
            SELECT agb, gemeentecode, declaratie_nr, nullif(referentie_nr, '') AS referentie_nr,
                   coalesce(nullif(trim(code), ''), 'onbekend') AS retourcode
            FROM (SELECT *, unnest(string_split(coalesce(retourcodes, ''), ',')) AS code FROM ruw_afwijzingen)
            WHERE coalesce(antwoorddatum < {peil}, true)),
        afgewezen_regels AS (
            SELECT DISTINCT d.rij, coalesce(d.bedrag_cent_signed, 0) AS bedrag, a.retourcode
            FROM ruw_declaraties d
            JOIN codes a ON a.agb = d.agb AND a.gemeentecode = d.gemeentecode AND a.declaratie_nr = d.declaratie_nr
                        AND (a.referentie_nr IS NULL OR a.referentie_nr = d.referentie_nr)
            WHERE coalesce(d.periode_begin < {peil}, false) AND NOT coalesce(d.declaratiedatum >= {peil}, false))"""


def afwijzingen_zin(c) -> str:
    """The sentence on rejections: how many lines and euro were rejected (JW325), or,
    without any JW325 in the data, that the figures are ingediende, not toegekende,
    bedragen (metrics.md 0.2)."""
    if not c.heeft_afwijzingen:
        return ("De gegevens bevatten geen declaratie-antwoorden (JW325): alle bedragen in de rapporten zijn "
                "ingediende bedragen, niet toegekende bedragen (afwijzingen door de gemeente zijn niet bekend).")
    n, cent = afwijzingen_totaal(c)
    if n == 0:
        return "De declaratie-antwoorden (JW325) wijzen vóór de peildatum geen declaratieregels af."
    codes = afwijzingen_per_code(c).head(3)
    top = fmt.lijst(f"{code} ({fmt.getal(k)})" for code, k in zip(codes["retourcode"], codes["regels"]))
    return (f"{fmt.getal(n)} declaratieregels ({fmt.bedrag_kort(cent / 100)}) zijn afgewezen in een "
            f"declaratie-antwoord (JW325) en tellen niet mee in kosten en volume; regels per retourcode "
            f"(de meeste eerst): {top}.")


def meerdere_clienten(c) -> pd.DataFrame:
    """Toewijzingen declared for more than one client (metrics.md 0.2), with names:
    ``gemeente``, ``toewijzingnummer``, ``aanbieder`` (name, else the AGB code),
    ``cliënten`` (distinct clients declared on it), ``posten``, ``bedrag (€)``; no
    client ids. Sorted by amount, descending."""
    m = c.signalen["toewijzing_meerdere_clienten"]
    cols = ["gemeente", "toewijzingnummer", "aanbieder", "cliënten", "posten", "bedrag (€)"]
    if len(m) == 0:
        return pd.DataFrame(columns=cols)
    gem = dict(zip(c.gemeenten["gemeentecode"].astype(str), c.gemeenten["gemeentenaam"].astype(str)))
    aanb = dict(zip(c.aanbieders["agb"].astype(str), c.aanbieders["naam"].astype(str)))
    out = pd.DataFrame({
        "gemeente": [gem.get(str(g), str(g)) for g in m["gemeentecode"]],
        "toewijzingnummer": m["toewijzing_nr"].astype(str).to_numpy(),
        "aanbieder": [aanb.get(str(a), str(a)) for a in m["agb"]],
        "cliënten": m["clienten"].astype("int64").to_numpy(),
        "posten": m["posten"].astype("int64").to_numpy(),
        "bedrag (€)": m["bedrag_cent"].astype("float64").to_numpy() / 100,
    })
    return out.sort_values(["bedrag (€)", "gemeente", "toewijzingnummer"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def ingediend_na_peildatum(c) -> pd.DataFrame:
    """Declaration lines of care before the peildatum but declared (DeclaratieDagtekening)
    on or after it, left out by the cleaning (rule ``ingediend_na_peildatum``), per care
    month: ``maand``, ``regels``, ``bedrag_cent`` (ingediend, signed). Empty without
    any declaratiedatum."""
    peil = _peil(c)
    out = engine.df(c.con, f"""
        SELECT date_trunc('month', periode_begin)::DATE AS maand, count(*) AS regels,
               coalesce(sum(bedrag_cent_signed), 0)::BIGINT AS bedrag_cent
        FROM ruw_declaraties
        WHERE periode_begin < {peil} AND declaratiedatum >= {peil}
        GROUP BY 1 ORDER BY 1""")
    return out.astype({"maand": "datetime64[ns]", "regels": "int64", "bedrag_cent": "int64"})


def start_stop_correcties(c) -> pd.DataFrame:
    """JW305/JW307 records per message: ``bericht``, ``gelezen``, ``verwijderberichten``
    (StatusAanlevering 3), ``verwijderd`` (the deletions and the records they cancel,
    metrics.md 0.2b, rule ``start_stop_verwijderd``), ``behouden``."""
    out = engine.df(c.con, """
        WITH r AS (SELECT coalesce(bericht, 'onbekend') AS bericht, count(*) AS gelezen,
                          count(*) FILTER (trim(status_aanlevering) = '3') AS verwijderberichten
                   FROM ruw_start_stop GROUP BY 1),
             s AS (SELECT coalesce(bericht, 'onbekend') AS bericht, count(*) AS behouden FROM start_stop GROUP BY 1)
        SELECT r.bericht, r.gelezen, r.verwijderberichten, r.gelezen - coalesce(s.behouden, 0) AS verwijderd,
               coalesce(s.behouden, 0) AS behouden
        FROM r LEFT JOIN s USING (bericht) ORDER BY r.bericht""")
    return out.astype({"bericht": "string", **{k: "int64" for k in ("gelezen", "verwijderberichten",
                                                                      "verwijderd", "behouden")}})


def ijw_releases(c) -> pd.DataFrame:
    """Records per iJw message and release (``ijw_release`` "3.0", "3.1", "3.2" of the
    canonical tables; data-contract 1.1): ``bericht``, ``release``, ``records``. Only
    records with a release (exports have none); empty when no table carries one."""
    delen = []
    for tabel, bericht in (("toewijzingen", "'JW301'"), ("start_stop", "coalesce(bericht, 'JW305/JW307')"),
                           ("verzoeken", "'JW315'"), ("declaraties", "'JW323'"), ("afwijzingen", "'JW325'")):
        view = f"ruw_{tabel}"
        if "ijw_release" in _kolommen(c, view):
            delen.append(f"""SELECT {bericht} AS bericht, trim(ijw_release) AS release FROM {view}
                             WHERE nullif(trim(ijw_release), '') IS NOT NULL""")
    if not delen:
        return pd.DataFrame({"bericht": pd.Series(dtype="string"), "release": pd.Series(dtype="string"),
                             "records": pd.Series(dtype="int64")})
    out = engine.df(c.con, f"""SELECT bericht, release, count(*) AS records
                               FROM ({' UNION ALL '.join(delen)}) GROUP BY ALL ORDER BY bericht, release""")
    return out.astype({"bericht": "string", "release": "string", "records": "int64"})


def overgeslagen(ds) -> pd.DataFrame:
    """Messages skipped at ingest per input kind (other iJw messages, iWmo, older
    releases; data-contract 1.1): ``invoer``, ``overgeslagen``, only kinds with any."""
    t = ds.ingest_telling
    if t is None or len(t) == 0 or "overgeslagen" not in t.columns:
        return pd.DataFrame({"invoer": pd.Series(dtype="string"), "overgeslagen": pd.Series(dtype="int64")})
    n = pd.to_numeric(t["overgeslagen"], errors="coerce").fillna(0).astype("int64")
    out = pd.DataFrame({"invoer": t["invoer"].astype("string").to_numpy(), "overgeslagen": n.to_numpy()})
    return out[out["overgeslagen"] > 0].sort_values("overgeslagen", ascending=False, kind="stable") \
        .reset_index(drop=True)


def volledigheidscurve(c, regio: str, fp: forecast.ForecastParams | None = None) -> pd.DataFrame:
    """The completeness curve of ``regio`` measured from the data
    (:func:`jeugdlib.forecast.volledigheid`): ``k`` (months after the care month's end),
    ``volledigheid`` (share of the eventual net cost declared by then), ``regio`` (the
    curve used: the regio's own, else Nederland's). Empty when the lag cannot be
    measured (no declaratiedatum, or too little history)."""
    curve = forecast.volledigheid(c, fp)
    if len(curve) == 0:
        return pd.DataFrame({"regio": pd.Series(dtype="string"), "k": pd.Series(dtype="int64"),
                             "volledigheid": pd.Series(dtype="float64")})
    eigen = regio if regio and (curve["regio"] == regio).any() else config.NEDERLAND
    return curve[curve["regio"] == eigen].reset_index(drop=True)


def recente_maanden(c, regio: str, fp: forecast.ForecastParams | None = None) -> pd.DataFrame:
    """The recent months of ``regio`` at the peildatum
    (:func:`jeugdlib.forecast.onvolledige_maanden`: ``maand``, ``k``, ``volledigheid``,
    ``onvolledig``) with ``gedeclareerd`` (net cost declared so far, euro) and
    ``verwacht`` (gedeclareerd / expected completeness: the expected eventual cost;
    empty where the completeness is unknown or 0)."""
    m = forecast.onvolledige_maanden(c, regio or config.NEDERLAND, fp)
    kosten = forecast.maandkosten(c, nederland=True)
    kosten = kosten[kosten["regio"] == (regio or config.NEDERLAND)]
    m["gedeclareerd"] = m["maand"].map(dict(zip(kosten["maand"], kosten["kosten"]))).fillna(0.0).astype("float64")
    v = m["volledigheid"]
    m["verwacht"] = (m["gedeclareerd"] / v).where(v > 0)
    return m


# --------------------------------------------------------------------------- sentences


def ontvangst_zin(c) -> str | None:
    """The sentence on receipt (metrics.md 0.2): how much was declared on or after the
    peildatum and left out, or that the lines were not filtered on receipt."""
    if not c.heeft_declaratiedatum:
        return ("De declaraties hebben geen declaratiedatum (DeclaratieDagtekening): de regels zijn niet "
                "gefilterd op ontvangst vóór de peildatum; een latere levering kan de cijfers nog veranderen.")
    t = ingediend_na_peildatum(c)
    if len(t) == 0:
        return None
    return (f"{fmt.getal(t['regels'].sum())} declaratieregels ({fmt.bedrag_kort(t['bedrag_cent'].sum() / 100)}) "
            f"zijn gedagtekend op of na de peildatum ({fmt.datum(c.params.peildatum)}) en tellen daarom niet mee.")


def vertraging_zin(c, regio: str, fp: forecast.ForecastParams | None = None) -> str | None:
    """The sentence on the declaration lag: which recent months are onvolledig and why."""
    fp = fp or forecast.ForecastParams()
    m = recente_maanden(c, regio, fp)
    onv = m[m["onvolledig"]]
    if len(volledigheidscurve(c, regio, fp)) == 0:
        return (f"De declaratievertraging is niet uit de gegevens te meten; aangenomen is dat de laatste "
                f"{fmt.getal(fp.lag_maanden)} maanden vóór de maand van de peildatum onvolledig zijn"
                + (f" (vanaf {fmt.maand(onv['maand'].iloc[0])})." if len(onv) else "."))
    if len(onv) == 0:
        return (f"Op de peildatum is naar verwachting van elke maand minstens "
                f"{fmt.procent(fp.volledig_drempel, 0)} van de kosten gedeclareerd.")
    return (f"{fmt.getal(len(onv))} maanden (vanaf {fmt.maand(onv['maand'].iloc[0])}) zijn op de peildatum nog "
            f"onvolledig: naar verwachting is minder dan {fmt.procent(fp.volledig_drempel, 0)} van hun "
            f"uiteindelijke kosten gedeclareerd.")


def toelichting_regels(r: Rapport) -> list[str]:
    """Report-specific remarks for the Toelichting: rejections, receipt, the lag method."""
    c = r.cleaned
    fp = forecast.ForecastParams()
    regels = []
    if not c.heeft_afwijzingen:
        regels.append("Zonder declaratie-antwoorden (JW325) zijn alle bedragen ingediende, geen toegekende bedragen.")
    if not c.heeft_declaratiedatum:
        regels.append("Zonder declaratiedatum zijn de declaratieregels niet gefilterd op ontvangst vóór de "
                      "peildatum.")
    if len(volledigheidscurve(c, r.regio, fp)):
        regels.append(f"Declaratievertraging: de volledigheidscurve is gemeten op de "
                      f"{fmt.getal(fp.volledigheid_venster)} meest recente zorgmaanden die minstens "
                      f"{fmt.getal(fp.volledigheid_maanden)} maanden vóór de peildatum eindigden; een maand is "
                      f"onvolledig zolang naar verwachting minder dan {fmt.procent(fp.volledig_drempel, 0)} "
                      "van haar kosten is gedeclareerd (metrics.md §0.2).")
    else:
        regels.append(f"Declaratievertraging: niet te meten; de laatste {fmt.getal(fp.lag_maanden)} maanden vóór "
                      "de maand van de peildatum gelden als onvolledig (vaste aanname).")
    return regels


# --------------------------------------------------------------------------- sections


def samenvatting(r: Rapport) -> None:
    """The Samenvatting: every sentence built from the numbers below."""
    ds, c = r.ds, r.cleaned
    s = c.signalen
    z = []
    t = ds.ingest_telling
    gel = int(pd.to_numeric(t["gelezen"]).sum()) if len(t) else 0
    q = int(pd.to_numeric(t["quarantaine"]).sum()) if len(t) else len(ds.quarantaine)
    if gel:
        z.append(f"Bij het inlezen van de hele dataset zijn {fmt.getal(gel)} records gelezen; {fmt.getal(q)} "
                 f"({fmt.procent(q / gel, 2)}) konden niet worden gebruikt en staan in quarantaine.")
    r.leg_vast("gelezen", gel)
    r.leg_vast("quarantaine", q)
    z.append(afwijzingen_zin(c))
    n_afw, cent_afw = afwijzingen_totaal(c)
    r.leg_vast("afgewezen_regels", n_afw)
    r.leg_vast("afgewezen_bedrag", cent_afw / 100)
    r.leg_vast("heeft_afwijzingen", c.heeft_afwijzingen)
    z.append(ontvangst_zin(c))
    na = ingediend_na_peildatum(c)
    r.leg_vast("ingediend_na_peildatum", int(na["regels"].sum()))
    r.leg_vast("heeft_declaratiedatum", c.heeft_declaratiedatum)
    m = meerdere_clienten(c)
    if len(m):
        z.append(f"{fmt.getal(len(m))} toewijzingen zijn gedeclareerd voor meer dan één cliënt "
                 f"({fmt.getal(m['posten'].sum())} posten, {fmt.bedrag_kort(m['bedrag (€)'].sum())}); de posten "
                 "van een andere cliënt dan die van de toewijzing tellen als posten zonder bekende toewijzing.")
    r.leg_vast("toewijzing_meerdere_clienten", len(m))
    ss = start_stop_correcties(c)
    n_ss = int(ss["verwijderd"].sum()) if len(ss) else 0
    if n_ss:
        z.append(f"{fmt.getal(n_ss)} start- en stopberichten (JW305/JW307) zijn niet gebruikt: "
                 f"{fmt.getal(ss['verwijderberichten'].sum())} verwijderingen (StatusAanlevering 3) en de "
                 "records die zij verwijderen.")
    r.leg_vast("start_stop_verwijderd", n_ss)
    zt = s["zonder_toewijzing"]
    if len(zt):
        z.append(f"{fmt.getal(len(zt))} gedeclareerde posten in {r.regio} "
                 f"({fmt.bedrag_kort(_euro(zt['bedrag_cent']))}) "
                 "horen bij een onbekend toewijzingsnummer; ze tellen mee in de kosten, niet in "
                 "toewijzingscijfers.")
    r.leg_vast("zonder_toewijzing", len(zt))
    cz = s["credit_zonder_debet"]
    if len(cz):
        z.append(f"{fmt.getal(len(cz))} creditposten ({fmt.bedrag_kort(-_euro(cz['bedrag_cent']))}) hebben geen "
                 "bijbehorende debetpost.")
    r.leg_vast("credit_zonder_debet", len(cz))
    for naam, key in (("productcode", "onbekende_producten"), ("AGB-code", "onbekende_aanbieders")):
        d = s[key]
        col = "productcode" if key == "onbekende_producten" else "agb"
        n = d[col].nunique() if len(d) else 0
        if n:
            z.append(f"{fmt.getal(n)} {naam}{'s komen' if n > 1 else ' komt'} niet voor in de referentietabel "
                     f"({fmt.getal(d['aantal'].sum())} records).")
    z.append(vertraging_zin(c, r.regio))
    rm = recente_maanden(c, r.regio)
    r.leg_vast("onvolledige_maanden", int(rm["onvolledig"].sum()))
    r.samenvatting = [x for x in z if x]
    toon(samenvatting_blok(r.samenvatting))


def inlezen(r: Rapport) -> None:
    """Read, kept, quarantined per input kind; quarantined by rule with the amount."""
    t = r.ds.ingest_telling
    toon(kopje("Inlezen per invoersoort"))
    if len(t):
        toon(tabel(t, {c: "aantal" for c in ("gelezen", "behouden", "quarantaine", "overgeslagen")}),
             bijschrift("Voor elke invoersoort geldt: gelezen = behouden + quarantaine + overgeslagen (berichten "
                        "van een ander type, iWmo of een oudere release). Dit geldt voor de hele dataset, niet "
                        "alleen voor deze regio."))
    q = quarantaine_tabel(r.ds)
    toon(kopje("Quarantaine per regel", 3))
    if len(q) == 0:
        toon(let_op("Geen records in quarantaine."))
    else:
        toon(tabel(q, {"records": "aantal", "bedrag (€)": "euro"}),
             bijschrift("Het bedrag is het gedeclareerde bedrag van de declaratieregels in quarantaine."))
        qb = r.ds.quarantaine.groupby("bestand", observed=True).size().sort_values(ascending=False).head(10)
        toon(kopje("Bestanden met de meeste records in quarantaine", 3),
             tabel(qb.reset_index(name="records"), {"records": "aantal"}))


def berichten(r: Rapport) -> None:
    """iJw release per record (this region) and messages skipped per kind (whole dataset)."""
    rel = ijw_releases(r.cleaned)
    ov = overgeslagen(r.ds)
    toon(kopje("Berichten: iJw-release en overgeslagen berichten"))
    if len(rel):
        toon(tabel(rel.rename(columns={"release": "iJw-release"}), {"records": "aantal"}),
             bijschrift(f"Records per bericht en iJw-release in de gegevens van {r.regio}; exports hebben geen "
                        "release en tellen hier niet mee."))
    else:
        toon(let_op("De gegevens vermelden geen iJw-release per record (bijvoorbeeld omdat ze uit exports komen)."))
    if len(ov):
        toon(kopje("Overgeslagen berichten", 3),
             tabel(ov, {"overgeslagen": "aantal"}),
             bijschrift("Berichten van een ander type of standaard (iWmo) of een oudere release (2.x) worden "
                        "overgeslagen en geteld, niet in quarantaine gezet (hele dataset)."))
    else:
        toon(bijschrift("Bij het inlezen is geen enkel bericht overgeslagen."))


def opschoning(r: Rapport) -> None:
    """Cleaning counts per rule (metrics.md section 0), for this region."""
    t = r.cleaned.telling
    if len(t) == 0:
        return
    df = t[["tabel", "regel", "omschrijving", "voor", "verwijderd"]].rename(columns={"voor": "records vóór"})
    toon(kopje("Opschoning"), tabel(df, {"records vóór": "aantal", "verwijderd": "aantal"}),
         bijschrift("Regels van metrics.md §0, in deze volgorde, "
                    + ("op de hele dataset (de opschoning van de kwartaalrun; de tabellen hieronder gelden voor "
                       f"{r.regio})." if r.opslag else f"op de gegevens van {r.regio}.")))


def afwijzingen(r: Rapport) -> None:
    """Rejected declaration lines (JW325) per RetourCode, or the "ingediend" statement."""
    c = r.cleaned
    toon(kopje("Afwijzingen (declaratie-antwoord JW325)"))
    if not c.heeft_afwijzingen:
        toon(let_op(afwijzingen_zin(c)))
        return
    codes = afwijzingen_per_code(c)
    n, cent = afwijzingen_totaal(c)
    toon(tegels([Tegel("Afgewezen regels", fmt.getal(n), "declaratieregels niet betaald"),
                 Tegel("Afgewezen bedrag", fmt.bedrag(cent / 100), "ingediend bedrag van die regels")]))
    if len(codes) == 0:
        toon(let_op(afwijzingen_zin(c)))
        return
    df = pd.DataFrame({"retourcode": codes["retourcode"].tolist() + ["totaal (elke regel één keer)"],
                       "regels": codes["regels"].tolist() + [n],
                       "bedrag (€)": (codes["bedrag_cent"] / 100).tolist() + [cent / 100]})
    toon(tabel(df, {"regels": "aantal", "bedrag (€)": "euro"}, totaal=True),
         bijschrift("Afgewezen prestaties en declaraties (JW325 gedagtekend vóór de peildatum) tellen niet mee in "
                    "kosten en volume. Een regel met meer retourcodes staat bij elke code; het totaal telt hem één "
                    "keer."))


def ontvangst(r: Rapport) -> None:
    """Declarations dated on or after the peildatum, left out (or: no receipt filter)."""
    c = r.cleaned
    toon(kopje("Ontvangst: declaraties na de peildatum"))
    if not c.heeft_declaratiedatum:
        toon(let_op(ontvangst_zin(c)))
        return
    t = ingediend_na_peildatum(c)
    if len(t) == 0:
        toon(bijschrift(f"Geen declaratieregel is gedagtekend op of na de peildatum "
                        f"({fmt.datum(c.params.peildatum)})."))
        return
    df = pd.DataFrame({"zorgmaand": t["maand"], "regels": t["regels"], "bedrag (€)": t["bedrag_cent"] / 100})
    df = pd.concat([df, pd.DataFrame({"zorgmaand": [pd.NaT], "regels": [int(t["regels"].sum())],
                                      "bedrag (€)": [t["bedrag_cent"].sum() / 100]})], ignore_index=True)
    df["zorgmaand"] = [fmt.maand(m) if not pd.isna(m) else "totaal" for m in df["zorgmaand"]]
    toon(tabel(df, {"regels": "aantal", "bedrag (€)": "euro"}, totaal=True),
         bijschrift(f"Declaratieregels over zorg vóór de peildatum, maar gedagtekend op of na "
                    f"{fmt.datum(c.params.peildatum)}: ze tellen niet mee, zodat een latere levering dezelfde "
                    "cijfers geeft (metrics.md §0.2)."))


def start_stop(r: Rapport) -> None:
    """JW305/JW307 corrections removed (StatusAanlevering 3, metrics.md 0.2b)."""
    t = start_stop_correcties(r.cleaned)
    toon(kopje("Start- en stopberichten: correcties"))
    if len(t) == 0:
        toon(bijschrift(f"Geen start- of stopberichten (JW305/JW307) in de gegevens van {r.regio}."))
        return
    toon(tabel(t, {k: "aantal" for k in ("gelezen", "verwijderberichten", "verwijderd", "behouden")}),
         bijschrift("Een record met StatusAanlevering 3 verwijdert het eerdere record van dezelfde aanbieder, "
                    "gemeente, toewijzing en begindatum; beide tellen niet mee (iJw IV028, metrics.md §0.2b)."))


def signalen(r: Rapport) -> None:
    """Unknown products, aanbieders and gemeenten, toewijzingen with more than one client,
    declarations without toewijzing, credits without debet, unknown birth dates."""
    s = r.cleaned.signalen
    toon(kopje("Signalen"))
    for key, titel, col in (("onbekende_producten", "Onbekende productcodes", "productcode"),
                            ("onbekende_aanbieders", "Onbekende aanbieders (AGB)", "agb"),
                            ("onbekende_gemeenten", "Onbekende gemeentecodes", "gemeentecode")):
        d = s.get(key)
        if d is None or len(d) == 0:
            continue
        d = d.copy()
        d["bedrag (€)"] = d["bedrag_cent"].astype("float64") / 100
        cols = [c for c in ("tabel", col, "productcategorie", "aantal", "bedrag (€)") if c in d.columns]
        toon(kopje(titel, 3), tabel(d[cols].sort_values("aantal", ascending=False), {"aantal": "aantal",
                                                                                   "bedrag (€)": "euro"},
                                    max_rijen=20))
    m = meerdere_clienten(r.cleaned)
    if len(m):
        toon(kopje("Toewijzingen gedeclareerd voor meer dan één cliënt", 3),
             tabel(m, {"cliënten": "aantal", "posten": "aantal", "bedrag (€)": "euro"},
                   klein_aantal=r.params.klein_aantal, max_rijen=20),
             bijschrift("Eén toewijzingsnummer (per gemeente) met declaraties voor verschillende cliënten. De posten "
                        "van een andere cliënt dan die van de toewijzing tellen in de kosten, niet in "
                        f"toewijzingscijfers. Aantallen cliënten onder {r.params.klein_aantal} staan als "
                        f"“{fmt.ONDERDRUKT}”."))
    for key, titel in (("zonder_toewijzing", "Declaraties zonder bekende toewijzing"),
                       ("credit_zonder_debet", "Credits zonder debet")):
        d = s.get(key)
        if d is None or len(d) == 0:
            continue
        g = (d.assign(_b=d["bedrag_cent"].astype("float64") / 100)
             .groupby("agb", observed=True).agg(posten=("_b", "size"), bedrag=("_b", "sum"))
             .reset_index().sort_values("posten", ascending=False))
        namen = dict(zip(r.cleaned.aanbieders["agb"].astype(str), r.cleaned.aanbieders["naam"].astype(str)))
        g.insert(1, "aanbieder", g["agb"].map(namen).fillna("onbekend"))
        toon(kopje(titel, 3), tegels([Tegel("Posten", fmt.getal(len(d))),
                                      Tegel("Bedrag", fmt.bedrag(_euro(d["bedrag_cent"])))]),
             tabel(g.rename(columns={"bedrag": "bedrag (€)"}), {"posten": "aantal", "bedrag (€)": "euro"},
                   max_rijen=10))
    gb = s.get("geboortedatum_onbekend")
    if gb is not None and len(gb) and int(pd.to_numeric(gb["aantal"]).sum()):
        toon(kopje("Geboortedatum onbekend", 3),
             tabel(gb.rename(columns={"clienten": "cliënten"}), {"aantal": "aantal", "cliënten": "aantal"},
                   klein_aantal=r.params.klein_aantal),
             bijschrift("Records zonder bekende geboortedatum blijven in de analyse (leeftijdsregel niet toe "
                        "te passen)."))


def volledigheid_grafiek(curve: pd.DataFrame, regio: str, drempel: float):
    """Line chart of a completeness curve (k months after the month's end against the
    share declared), with the threshold of onvolledig as a dashed line."""
    df = curve.assign(k=curve["k"].astype("int64"))
    fig = plots.lijnen(
        df, "k", "volledigheid",
        titel=f"Deel van de kosten van een zorgmaand dat na k maanden is gedeclareerd, {regio}",
        xlabel="maanden na afloop van de zorgmaand (k)", ylabel="gedeclareerd deel van de uiteindelijke kosten (%)",
        eenheid="fractie",
        leeswijzer=f"Bij k = 0 staat het deel dat binnen de zorgmaand zelf al gedeclareerd was; onder de stippellijn "
                   f"({fmt.procent(drempel, 0)}) telt een maand als onvolledig.")
    ax = fig.axes[0]
    ax.axhline(drempel, color=plots.MARKEER, linestyle="--", linewidth=1.2)
    ax.set_xticks(df["k"].tolist())
    return fig


def declaratievertraging(r: Rapport) -> None:
    """The declaration lag (metrics.md 0.2): the completeness curve measured from the
    declarations' declaratiedatum and the recent months onvolledig at the peildatum; or,
    without a measurable lag, the fixed assumption that is used instead."""
    c = r.cleaned
    fp = forecast.ForecastParams()
    regio = r.regio or config.NEDERLAND
    curve = volledigheidscurve(c, regio, fp)
    m = recente_maanden(c, regio, fp)
    toon(kopje("Declaratievertraging"))
    if len(curve):
        eigen = str(curve["regio"].iloc[0])
        toon(volledigheid_grafiek(curve, eigen, fp.volledig_drempel),
             bijschrift(f"Gemeten uit de declaratiedatum van de declaraties: per k het deel van de netto kosten van de "
                        f"{fmt.getal(fp.volledigheid_venster)} meest recente zorgmaanden die minstens "
                        f"{fmt.getal(fp.volledigheid_maanden)} "
                        "maanden vóór de peildatum eindigden, dat k maanden na afloop van de maand gedeclareerd was"
                        + ("" if eigen == regio else f" (curve van {eigen}: {regio} heeft te weinig gegevens)") + "."))
        onv = m.index[m["onvolledig"]]
        m = m.iloc[max(0, (onv[0] if len(onv) else len(m)) - 3):]  # the onvolledige months and 3 before
        df = pd.DataFrame({"zorgmaand": [fmt.maand(x) for x in m["maand"]],
                           "maanden na afloop": m["k"].clip(lower=0).astype("int64"),
                           "verwacht gedeclareerd": m["volledigheid"],
                           "gedeclareerd (€)": m["gedeclareerd"],
                           "verwacht eindbedrag (€)": m["verwacht"],
                           "onvolledig": ["ja" if x else "nee" for x in m["onvolledig"]]})
        toon(kopje("Recente maanden op de peildatum", 3),
             tabel(df, {"maanden na afloop": "aantal", "verwacht gedeclareerd": "fractie",
                        "gedeclareerd (€)": "euro", "verwacht eindbedrag (€)": "euro"}),
             bijschrift(f"Verwacht gedeclareerd: het deel van de uiteindelijke kosten dat volgens de curve op de "
                        f"peildatum binnen is; onvolledig: minder dan {fmt.procent(fp.volledig_drempel, 0)} (ook "
                        "voor elke latere maand); de drie maanden ervoor ter vergelijking. "
                        "Verwacht eindbedrag = gedeclareerd / verwacht gedeclareerd. "
                        "Prognoses en trends gebruiken de onvolledige maanden niet als gewone waarneming."))
        return
    waarom = ("De declaraties hebben geen declaratiedatum" if not forecast.heeft_declaratiedatum(c)
              else "De gegevens hebben te weinig geschiedenis met een declaratiedatum")
    toon(let_op(f"{waarom}: de declaratievertraging is niet te meten. Daarom geldt de vaste aanname dat de "
                f"laatste {fmt.getal(fp.lag_maanden)} maanden vóór de maand van de peildatum onvolledig zijn."))
    if len(m):
        df = pd.DataFrame({"zorgmaand": [fmt.maand(x) for x in m["maand"]],
                           "gedeclareerd tot de peildatum (€)": m["gedeclareerd"],
                           "onvolledig (aanname)": ["ja" if x else "nee" for x in m["onvolledig"]]})
        toon(tabel(df, {"gedeclareerd tot de peildatum (€)": "euro"}),
             bijschrift("Onvolledige maanden worden in prognoses en trends niet als gewone waarneming gebruikt; "
                        "hun bedrag groeit nog."))
