"""Report 7, Datakwaliteit (reports.md): what was read, kept and quarantined, and the
data-quality lists of cleaning.

From the ingest record (``ingest_telling``, ``quarantaine``: whole dataset, per
input file and record type), the cleaning counts (``Cleaned.telling``) and lists
(``Cleaned.signalen``, for this region), and the declaration lag estimated from
the forecast (:mod:`jeugdlib.forecast`): the share of each recent month's
expected cost that had been declared by the peildatum.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plots
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, toon
from .toelichting import quarantaine_tabel


def _euro(cent) -> float:
    return float(pd.to_numeric(pd.Series(cent), errors="coerce").fillna(0).sum()) / 100


def samenvatting(r: Rapport) -> None:
    ds, s = r.ds, r.cleaned.signalen
    z = []
    t = ds.ingest_telling
    gel = int(pd.to_numeric(t["gelezen"]).sum()) if len(t) else 0
    q = int(pd.to_numeric(t["quarantaine"]).sum()) if len(t) else len(ds.quarantaine)
    if gel:
        z.append(f"Bij het inlezen van de hele dataset zijn {fmt.getal(gel)} records gelezen; {fmt.getal(q)} "
                 f"({fmt.procent(q / gel, 2)}) konden niet worden gebruikt en staan in quarantaine.")
    r.leg_vast("gelezen", gel)
    r.leg_vast("quarantaine", q)
    zt = s["zonder_toewijzing"]
    if len(zt):
        z.append(f"{fmt.getal(len(zt))} gedeclareerde posten in {r.regio} ({fmt.bedrag_kort(_euro(zt['bedrag_cent']))}) "
                 "horen bij een onbekend toewijzingsnummer; ze tellen mee in de kosten, niet in "
                 "toewijzingscijfers.")
    r.leg_vast("zonder_toewijzing", len(zt))
    cz = s["credit_zonder_debet"]
    if len(cz):
        z.append(f"{fmt.getal(len(cz))} creditposten ({fmt.bedrag_kort(-_euro(cz['bedrag_cent']))}) hebben geen "
                 "bijbehorende debetpost.")
    for naam, key in (("productcodes", "onbekende_producten"), ("AGB-codes", "onbekende_aanbieders")):
        d = s[key]
        col = "productcode" if key == "onbekende_producten" else "agb"
        if len(d):
            z.append(f"{fmt.getal(d[col].nunique())} {naam} komen niet voor in de referentietabel.")
    r.samenvatting = z
    toon(samenvatting_blok(z))


def inlezen(r: Rapport) -> None:
    """Read, kept, quarantined per input kind; quarantined by rule with the amount."""
    t = r.ds.ingest_telling
    toon(kopje("Inlezen per invoersoort"))
    if len(t):
        df = t.rename(columns={"invoer": "invoer", "gelezen": "gelezen", "behouden": "behouden",
                               "quarantaine": "quarantaine", "overgeslagen": "overgeslagen"})
        toon(tabel(df, {c: "aantal" for c in ("gelezen", "behouden", "quarantaine", "overgeslagen")}),
             bijschrift("Voor elke invoersoort geldt: gelezen = behouden + quarantaine (+ overgeslagen berichten "
                        "van een ander type). Dit geldt voor de hele dataset, niet alleen voor deze regio."))
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


def opschoning(r: Rapport) -> None:
    """Cleaning counts per rule (metrics.md section 0), for this region."""
    t = r.cleaned.telling
    if len(t) == 0:
        return
    df = t[["tabel", "regel", "omschrijving", "voor", "verwijderd"]].rename(columns={"voor": "records vóór"})
    toon(kopje("Opschoning"), tabel(df, {"records vóór": "aantal", "verwijderd": "aantal"}),
         bijschrift(f"Regels van metrics.md §0, in deze volgorde, op de gegevens van {r.regio}."))


def signalen(r: Rapport) -> None:
    """Unknown products and aanbieders, declarations without toewijzing, credits without debet."""
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
             tabel(gb.rename(columns={"clienten": "cliënten"}), {"aantal": "aantal", "cliënten": "aantal"}),
             bijschrift("Records zonder bekende geboortedatum blijven in de analyse (leeftijdsregel niet toe te passen)."))


def declaratievertraging(r: Rapport) -> None:
    """The declaration lag: share of each recent month's expected cost declared by the peildatum."""
    from .prognose import prognose

    p, _, _ = prognose(r)
    if p is None or p.beste is None:
        return
    a = p.aangevuld().reset_index()
    real = p.realisatie
    a = a[(a["maand"] >= p.eerste_onvolledig - pd.DateOffset(months=3)) & (a["maand"] < pd.Timestamp(r.params.peildatum))].copy()
    a["gedeclareerd"] = a["maand"].map(real).astype(float)
    a["aandeel"] = a["gedeclareerd"] / a["waarde"].where(a["prognose"], a["gedeclareerd"])
    a["maandnaam"] = [fmt.maand(m, kort=True) for m in a["maand"]]
    fig = plots.staven(a, "maandnaam", "aandeel", titel=f"Deel van de verwachte kosten dat al is gedeclareerd, {r.regio}",
                       xlabel="zorgmaand", ylabel="gedeclareerd / verwacht (%)", eenheid="fractie", waarden=True,
                       leeswijzer="Volledige maanden staan op 100%. Voor de laatste maanden is het verwachte bedrag "
                                  "de prognose; het verschil komt nog binnen.")
    toon(kopje("Declaratievertraging"), fig,
         bijschrift("De gegevens hebben geen ontvangstdatum per declaratie; de vertraging is daarom geschat als "
                    "gedeclareerd bedrag gedeeld door de prognose voor die maand (rapport Prognose)."))
