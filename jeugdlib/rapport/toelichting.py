"""The Toelichting at the end of every report (reports.md, "Rules for every report").

Definitions of the KPIs the report used (text of metrics.md, in Dutch), the
parameter values, the data window and peildatum, which periods are voorlopig,
the cleaning counts, how many records were quarantined and why (with the amount
involved), and the exact software version and data snapshot.
"""

from __future__ import annotations

import platform

import pandas as pd
from IPython.display import HTML

from .. import __version__, fmt
from .opmaak import e, tabel
from .laden import Rapport

#: Short Dutch definitions of the KPIs (metrics.md, same numbering); a KPI without one here
#: shows the definition of its registry entry (jeugdlib.metrics._common.REGISTRY).
DEFINITIES: dict[str, str] = {
    "afgewezen_bedrag": "Netto bedrag van de prestaties die de gemeente in een JW325 afwees, naar het begin van de "
                        "productperiode; alleen als er JW325-berichten zijn (§1, §0.2).",
    "aandeel_afgewezen": "Afgewezen bedrag gedeeld door kosten plus afgewezen bedrag (§1).",
    "kosten_prognose": "Verwachte kosten van het jaar volgens de gekozen methode (vorig jaar met indexatie, "
                       "twaalfmaandsgemiddelde of ETS), gekozen op de kleinste fout in de terugtoets (§10).",
    "kosten_prognose_ondergrens": "Ondergrens van het 80%-interval van de kostenprognose (§10).",
    "kosten_prognose_bovengrens": "Bovengrens van het 80%-interval van de kostenprognose (§10).",
    "kosten_verplicht": "Nog te verwachten kosten van de open P×Q-toewijzingen: resterend maximaal volume × "
                        "tarief × de recente verzilvering van het product (§10).",
    "kosten_prognose_budget": "De gekozen jaarprognose gedeeld door het budget van het jaar (§10).",
    "plafond_voorstel": "Voorstel budgetplafond per aanbieder voor het doeljaar: de productie (netto gedeclareerd, "
                        "inspanning en traject) in het basisjaar × (1 + indexatie) tot het doeljaar (§11).",
    "scenario_uitbetaling": "Uitbetaling in het lopende jaar per scenario (P×Q, hard plafond, donuthole, "
                            "staffelkorting) over de aanbieders met een plafond, op hun lineaire jaarprognose (§11).",
    "aanbieders_boven_plafond": "Aanbieders waarvan de lineaire jaarprognose boven hun plafond ligt (§11).",
    "kosten_verklaring": "De kostenverandering tussen twee volledige jaren, ontleed (LMDI) in het effect van het "
                         "aantal cliënten, de productmix, de zorg per cliënt, de prijs en nieuwe of vervallen "
                         "producten; de effecten tellen precies op tot de verandering (§11).",
    "clienten": "Unieke cliënten met minstens één toewijzing die de periode overlapt (metrics.md §1).",
    "toewijzingen": "Toewijzingen die de periode overlappen (laatste versie, niet ingetrokken) (§1).",
    "toewijzingen_gestart": "Toewijzingen met een ingangsdatum in de periode (§1).",
    "toewijzingen_per_client": "Toewijzingen gedeeld door cliënten in dezelfde periode (§1).",
    "aanbieders": "Unieke aanbieders (AGB-codes) met een positief netto gedeclareerd bedrag in de periode (§1).",
    "kosten": "Som van de netto gedeclareerde bedragen (debet min credit) van declaratieregels "
              "met een productperiode die in de periode begint (§1, §0.2).",
    "kosten_per_client": "Kosten gedeeld door het aantal unieke cliënten met een positief netto "
                         "gedeclareerd bedrag in de periode (§1).",
    "kosten_groei": "Kosten van een volledig jaar gedeeld door die van het jaar ervoor, min 1 (§1).",
    "kosten_prognose_lineair": "Kosten tot nu toe in het lopende jaar × 12 / aantal hele maanden "
                               "sinds 1 januari (§1).",
    "kosten_prognose_seizoen": "Kosten tot nu toe gedeeld door het aandeel dat dezelfde maanden in het "
                               "vorige volledige jaar hadden (§1).",
    "jeugdigen_met_jeugdhulp": "Cliënten van 0-17 jaar op de laatste dag van de periode gedeeld door het "
                               "aantal jeugdigen volgens bevolking.csv (§1).",
    "aandeel_nga": "Aandeel van de kosten bij aanbieders zonder contract op de begindatum van de "
                   "productperiode (niet-gecontracteerd aanbod) (§2).",
    "aandeel_variant": "Aandeel van de kosten op maatwerk-, meerwerk- en overige producten (§2).",
    "aandeel_aanbiedertype": "Aandeel van de kosten bij micro- en reguliere aanbieders (§2).",
    "aandeel_top10": "Aandeel van de kosten bij de tien aanbieders met de hoogste kosten (§2).",
    "aanbieders_klein": "Aanbieders met positieve kosten onder € 20.000 in een jaar (§2).",
    "aanbieders_een_client": "Aanbieders die in de periode precies één cliënt bedienden (§2).",
    "verzilvering": "Gedeclareerd volume × tarief gedeeld door toegewezen maximum volume × tarief, over "
                    "inspanningstoewijzingen die in de periode eindigden (§3).",
    "toegewezen_bedrag": "Toegewezen maximum volume × tarief van die toewijzingen (§3).",
    "gedeclareerd_bedrag": "Netto gedeclareerd bedrag op die toewijzingen (§3).",
    "verlenging": "Aandeel beëindigde toewijzingen waarop binnen 31 dagen een langere toewijzing van "
                  "dezelfde productgroep voor dezelfde cliënt aansloot (§4).",
    "recidief": "Aandeel beëindigde, niet verlengde toewijzingen met binnen zes maanden een nieuwe "
                "toewijzing in dezelfde productgroep (§4).",
    "duur_gem": "Gemiddelde duur in maanden (30,4375 dagen) van toewijzingen die in de periode eindigden (§5).",
    "zorgduur_2jaar": "Aandeel van de cliënten die op de laatste dag van de periode zorg hadden en van wie de "
                      "zorgepisode twee jaar of langer eerder begon (§5).",
    "zorgpaden": "Zorgpaden (aaneengesloten toewijzingen van één cliënt in één productgroep) die in de "
                 "periode begonnen (§6).",
    "zorgpaden_uniek": "Aantal verschillende zorgpadlabels (§6).",
    "zorgpaden_top5": "Aandeel zorgpaden met een van de vijf meest voorkomende labels (§6).",
    "zorgpaden_meer_maatwerk": "Aandeel zorgpaden met maatwerk of meerwerk in het label (§6).",
    "aandeel_pq_in_traject": "Aandeel van de kosten van de productgroep op maatwerk- en meerwerkproducten (§6).",
    "traject_kosten_ratio": "Mediaan van gedeclareerd bedrag / trajectprijs van regulier beëindigde trajecten (§6).",
    "traject_volume_ratio": "Mediaan van maanden met declaratie / normduur van regulier beëindigde trajecten (§6).",
    "plek_bezetting": "Gemiddelde over de maanden van cliënten / capaciteit (plekken) (§7).",
    "plek_maanden_aansluitend": "Aandeel maanden waarin het aantal cliënten binnen 1% van de capaciteit lag (§7).",
    "plek_kosten_per_client": "Plekken × prijs per plek gedeeld door unieke cliënten in het jaar (§7).",
    "verwijzer": "Aandeel aangevraagde producten (JW315) per type verwijzer (§8).",
    "budget_uitnutting": "Netto gedeclareerd bedrag dit jaar gedeeld door het budgetplafond van de aanbieder (§8).",
    "budget_prognose": "Budgetuitnutting met de lineaire jaarprognose (§8).",
    "verdeelsleutel": "Verdeling van gedeelde kosten over gemeenten volgens de verdeelsleutel (§9).",
}


def _versie_regel(r: Rapport) -> str:
    from importlib import metadata

    from ..reports import git_commit, snapshot

    pk = []
    for p in ("pandas", "numpy", "statsmodels", "matplotlib"):
        try:
            pk.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            pass
    g = git_commit()
    commit = (g.get("commit") or "onbekend")[:10] + (" (met lokale wijzigingen)" if g.get("gewijzigd") else "")
    snap = snapshot(r.data)
    return (f"jeugdlib {__version__} (git-commit {commit}), Python {platform.python_version()}, "
            f"{', '.join(pk)}. Gegevens: {snap['pad']}, momentopname {snap['hash']} "
            f"(bijgewerkt {snap['bijgewerkt'].replace('T', ' ')}).")


def quarantaine_tabel(ds) -> pd.DataFrame:
    """Quarantined input records per input kind and rule, with the amount in euro."""
    q = ds.quarantaine
    if len(q) == 0:
        return pd.DataFrame(columns=["invoer", "regel", "records", "bedrag (€)", "voorbeeld"])
    g = (q.assign(_b=q["bedrag_cent"].astype("float64").fillna(0) / 100)
         .groupby(["invoer", "regel"], dropna=False, observed=True)
         .agg(records=("regel", "size"), bedrag=("_b", "sum"), voorbeeld=("melding", "first"))
         .reset_index().sort_values("records", ascending=False))
    return g.rename(columns={"bedrag": "bedrag (€)"})


def toelichting(r: Rapport, extra: list[str] | None = None) -> HTML:
    """The Toelichting block of a report (definitions, parameters, window, data, versions).

    ``extra``: report-specific remarks (e.g. "zonder JW307-berichten gelden alle
    beëindigde trajecten als regulier beëindigd").
    """
    p = r.params
    jaren_vl = [str(x) for x in r.jaren().query("voorlopig")["periode"]]
    parts = ['<div class="jl-toelichting">']
    parts.append("<h3>Gegevens en parameters</h3><ul>")
    parts.append(f"<li>Peildatum {e(fmt.datum(p.peildatum))}: alles op of na deze dag telt niet mee; "
                 f"een open einddatum betekent actief tot en met {e(fmt.datum(r.laatste_dag))}.</li>")
    parts.append(f"<li>Venster: {e(fmt.datum(p.start))} tot en met {e(fmt.datum(r.laatste_dag))}.</li>")
    if jaren_vl:
        parts.append(f"<li>Voorlopig: {e(fmt.lijst(jaren_vl))} (de periode loopt tot of na de peildatum; "
                     "declaraties komen weken tot maanden na de zorgmaand binnen, dus de laatste maanden "
                     "zijn nog onvolledig).</li>")
    parts.append(f"<li>Parameters: maximale leeftijd {p.max_leeftijd} jaar, aansluiten binnen "
                 f"{p.aansluit_dagen} dagen, recidief binnen {p.recidief_dagen} dagen, kleine aantallen "
                 f"onder {p.klein_aantal} cliënten onderdrukt (weergegeven als “{e(fmt.ONDERDRUKT)}”)"
                 + (f", buiten beschouwing gelaten aanbieders (AGB): {e(fmt.lijst(p.exclude_agb))}"
                    if p.exclude_agb else "") + ".</li>")
    if r.alle_regios:
        parts.append(f"<li>Regio's in de gegevens: {e(fmt.lijst(r.regios))}; "
                     "“Nederland” is het totaal van deze regio's.</li>")
    else:
        parts.append(f"<li>Regio {e(r.regio)} met de gemeenten "
                     f"{e(fmt.lijst(r.gemeenten['gemeentenaam'].tolist()))}.</li>")
    for x in extra or []:
        parts.append(f"<li>{e(x)}</li>")
    parts.append("</ul>")

    # cleaning
    t = r.cleaned.telling
    if len(t):
        weg = t[t["verwijderd"].astype("int64") > 0]
        parts.append("<h3>Opschoning</h3><p>Regels uit metrics.md §0, in deze volgorde toegepast:</p>")
        parts.append(tabel(weg.assign(omschrijving=weg["omschrijving"].fillna(weg["regel"]))
                           [["tabel", "omschrijving", "voor", "verwijderd"]]
                           .rename(columns={"voor": "records vóór", "verwijderd": "verwijderd"}),
                           {"records vóór": "aantal", "verwijderd": "aantal"}).data)

    # quarantine
    q = quarantaine_tabel(r.ds)
    n_q = int(q["records"].sum()) if len(q) else 0
    parts.append("<h3>Quarantaine bij het inlezen</h3>")
    if n_q == 0:
        parts.append("<p>Geen records in quarantaine.</p>")
    else:
        parts.append(f"<p>{fmt.getal(n_q)} records uit de hele dataset konden niet worden gebruikt "
                     f"(samen {e(fmt.bedrag(q['bedrag (€)'].sum()))} gedeclareerd); zie het rapport "
                     "Datakwaliteit. Per regel:</p>")
        parts.append(tabel(q[["invoer", "regel", "records", "bedrag (€)"]].head(12),
                           {"records": "aantal", "bedrag (€)": "euro"}).data)

    # definitions: every KPI the report used, named by its registry label and id, with
    # its Dutch definition (else the registry's, from the function's docstring) and source
    from ..metrics._common import registry

    reg = registry()
    used = [k for k in r.gebruikte_kpis if k in reg or k in DEFINITIES]
    if used:
        parts.append("<h3>Definities</h3><dl>")
        for k in used:
            d = reg.get(k)
            term = f"{d.label} ({k})" if d is not None else k
            tekst = DEFINITIES.get(k) or (d.definitie if d is not None else "")
            if d is not None and d.bron and d.bron not in tekst:
                tekst += f" Bron: {d.bron}; eenheid: {d.eenheid}."
            parts.append(f"<dt>{e(term)}</dt><dd>{e(tekst)}</dd>")
        parts.append("</dl><p>De volledige definities staan in metrics.md van het project en in de "
                     "documentatie van de functies in <code>jeugdlib.metrics</code>.</p>")
    parts.append("<h3>Software en gegevens</h3>")
    parts.append(f"<p>{e(_versie_regel(r))}</p>")
    parts.append("</div>")
    return HTML("".join(parts))
