"""Report 8, Sturing (reports.md): budgetplafonds, scenarios and why cost rose.

The sections of the notebook ``notebooks/reports/sturing.ipynb``; each takes the
:class:`Rapport` and displays one part. The numbers come from
:mod:`jeugdlib.metrics.sturing` (the KPI rows of section 11 and its per-aanbieder
frames) for the parameters set once with :func:`instellen`; nothing here computes a
metric. :func:`kosten_verklaring` (the waterfall of why cost rose) is also meant for
the Kostenontwikkeling report.

Privacy: money per aanbieder rests on that aanbieder's clients. An aanbieder row with
fewer than ``klein_aantal`` clients shows its amounts as suppressed, and when exactly
one row of a table is suppressed the next smallest is suppressed too, so no
suppressed amount follows from the regio total minus the other rows. A plafond from
budgetplafonds.csv is a contract figure and stays visible; a proposed plafond (which
is production x a factor) is suppressed with its row.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .. import fmt, kpi, plots, privacy
from ..metrics import sturing as m
from ..metrics._common import hele_maanden
from .laden import Rapport
from .opmaak import Tegel, bijschrift, e, kopje, let_op, samenvatting_blok, tabel, tegels, tekst, toon

#: The report's title (until it is registered in jeugdlib.reports.RAPPORTEN).
TITEL = "Sturing op budgetplafonds"

#: Dutch names of the decomposition's factors.
FACTOR_NAMEN = {"clienten": "aantal cliënten", "mix": "productmix", "intensiteit": "intensiteit",
                "prijs": "prijs per eenheid", "nieuw_vervallen": "nieuwe en vervallen producten"}
FACTOR_UITLEG = {"clienten": "meer of minder cliënten met declaraties",
                 "mix": "welk deel van de cliënten welk product krijgt",
                 "intensiteit": "geleverd volume per cliënt per product",
                 "prijs": "bedrag per geleverde eenheid",
                 "nieuw_vervallen": "producten die maar in één van beide jaren voorkwamen"}
FACTOR_KORT = {"clienten": "cliënten", "mix": "productmix", "intensiteit": "intensiteit", "prijs": "prijs",
               "nieuw_vervallen": "nieuw/vervallen"}
SCENARIO_NAMEN = {"pq": "P×Q (geen plafond)", "hard": "hard plafond", "donuthole": "donuthole",
                  "staffel": "staffelkorting"}
STOPLICHT_KLEUREN = {"groen": "#009E73", "oranje": "#E69F00", "rood": "#D55E00", "geen plafond": "#999999"}
_SLEUTEL = "sturing"
#: Aanbieders listed one by one in the proposal table (the rest as one row).
TABEL_RIJEN = 25


# --------------------------------------------------------------------------- the numbers, once

@dataclasses.dataclass
class Gegevens:
    """What the sections show, for one regio and one set of parameters."""

    sp: m.SturingParams
    doeljaar: int
    basisjaar: int
    jaar: int  # the peildatum's year (projected)
    maanden: int  # whole months of it before the peildatum
    kpis: pd.DataFrame  # suppressed KPI rows of section 11, this regio
    voorstel: pd.DataFrame  # per aanbieder
    voorstel_gemeente: pd.DataFrame
    voorstel_product: pd.DataFrame
    projectie: pd.DataFrame  # per aanbieder, with naam, verzilvering, onderdrukt
    scenarios: pd.DataFrame  # per aanbieder with a plafond
    verklaring: pd.DataFrame  # regio, per year
    verklaring_groep: pd.DataFrame  # regio, per productgroep and year


def _leeg_param(v):
    return None if v is None or v == "" or v == 0 else v


def instellen(r: Rapport, *, indexatie: float | None = None, doeljaar: int | None = None,
              basisjaar: int | None = None, donut_band: float | None = None, staffel_drempel: float | None = None,
              staffel_korting: float | None = None, top_n: int | None = None) -> None:
    """Set the parameters of section 11 for this report (None, "" or 0: the default) and
    compute its numbers once."""
    kw = dict(indexatie=indexatie, doeljaar=_leeg_param(doeljaar), basisjaar=_leeg_param(basisjaar),
              donut_band=donut_band, staffel_drempel=staffel_drempel, staffel_korting=staffel_korting,
              top_n=_leeg_param(top_n))
    r._cache[_SLEUTEL] = _bereken(r, m.sturing_params(r.cleaned, **kw))


def gegevens(r: Rapport) -> Gegevens:
    """The numbers of this report (computed with the default parameters when
    :func:`instellen` was not called)."""
    if _SLEUTEL not in r._cache:
        instellen(r)
    return r._cache[_SLEUTEL]


def secundair(onderdrukt: pd.Series, grootte: pd.Series) -> pd.Series:
    """Secondary suppression: when exactly one row of several is suppressed, also the
    row with the smallest ``grootte`` among the others (so a total or a sum to 100%
    cannot give the suppressed row away)."""
    uit = pd.Series(onderdrukt, copy=True).fillna(False).astype(bool).to_numpy().copy()  # writable (pandas 3)
    if uit.sum() == 1 and len(uit) > 1:
        rest = pd.to_numeric(pd.Series(grootte), errors="coerce").astype("float64").to_numpy().copy()
        rest[uit] = np.inf
        rest = np.where(np.isnan(rest), -np.inf, rest)  # a missing size: suppress that one first
        uit[int(np.argmin(rest))] = True
    return pd.Series(uit, index=pd.Series(onderdrukt).index)


def onderdrukken(n: pd.Series, klein_aantal: int) -> pd.Series:
    """Which rows of a per-aanbieder table to suppress: fewer than ``klein_aantal``
    clients (and not none), plus :func:`secundair` on the client counts."""
    n = pd.to_numeric(n, errors="coerce").astype("float64")
    return secundair((n >= 1) & (n < klein_aantal), n)


def _bereken(r: Rapport, sp: m.SturingParams) -> Gegevens:
    c = r.cleaned
    p = r.params
    doel, basis = m.jaren(c, sp)
    rijen = m.kpi_rijen(c, **dataclasses.asdict(sp))
    rijen["voorlopig"] = kpi.voorlopig(rijen["periode"], p.peildatum).to_numpy()
    k = privacy.suppress(rijen, p.klein_aantal)
    k = k[k["regio"] == r.regio].reset_index(drop=True)
    for x in k["kpi"].unique():
        if x not in r.gebruikte_kpis:
            r.gebruikte_kpis.append(str(x))
    namen = (c.aanbieders.dropna(subset=["agb"]).drop_duplicates("agb")
             .set_index("agb")["naam"].astype(str).to_dict())

    def naam(agb):
        return namen.get(agb, f"AGB {agb}")

    def regio(df):
        df = df[df["regio"] == r.regio].reset_index(drop=True)
        if "agb" in df:
            df.insert(0, "aanbieder", [naam(a) for a in df["agb"]])
        return df

    vs = regio(m.voorstel(c, indexatie=sp.indexatie, doeljaar=doel, basisjaar=basis))
    vs["onderdrukt"] = onderdrukken(vs["n_clienten"], p.klein_aantal)
    vg = regio(m.voorstel(c, "gemeentecode", indexatie=sp.indexatie, doeljaar=doel, basisjaar=basis))
    vp = regio(m.voorstel(c, "productcode", per_aanbieder=False, indexatie=sp.indexatie, doeljaar=doel,
                          basisjaar=basis))
    pr = regio(m.projectie(c, indexatie=sp.indexatie))
    vz = m.verzilvering_per_aanbieder(c, m.standaard_basisjaar(p.peildatum))
    vz = vz[vz["regio"] == r.regio].set_index("agb")
    pr["verzilvering"] = pr["agb"].map(vz["verzilvering"]).astype("float64")
    pr["verzilvering_n"] = pr["agb"].map(vz["n_clienten"]).astype("float64")
    pr["onderdrukt"] = onderdrukken(pr["n_clienten"], p.klein_aantal)
    pr["nga_status"] = [fmt.LEEG if pd.isna(x) else "ja" if x >= 1 else "deels" if x > 0 else "nee"
                        for x in pr["nga"]]
    sc = regio(m.scenarios(c, indexatie=sp.indexatie, donut_band=sp.donut_band,
                           staffel_drempel=sp.staffel_drempel, staffel_korting=sp.staffel_korting))
    sc = sc.merge(pr[["agb", "onderdrukt", "bron"]], on="agb", how="left")
    vk = m.verklaring(c)
    vk = vk[(vk["regio"] == r.regio) & (vk["gemeente"] == "")].reset_index(drop=True)
    vkg = m.verklaring(c, per_productgroep=True)
    vkg = vkg[(vkg["regio"] == r.regio) & (vkg["gemeente"] == "")].reset_index(drop=True)
    return Gegevens(sp=sp, doeljaar=doel, basisjaar=basis, jaar=m.lopend_jaar(p.peildatum),
                    maanden=int(hele_maanden(p.peildatum)), kpis=k, voorstel=vs, voorstel_gemeente=vg,
                    voorstel_product=vp, projectie=pr, scenarios=sc, verklaring=vk, verklaring_groep=vkg)


def _w(g: Gegevens, kpi_: str, dimensie: str = "", periode: str | None = None) -> float | None:
    """A regio value of a KPI row (None when missing or suppressed)."""
    s = g.kpis[(g.kpis["kpi"] == kpi_) & (g.kpis["gemeente"] == "") & (g.kpis["dimensie"] == dimensie)]
    if periode is not None:
        s = s[s["periode"] == periode]
    if len(s) == 0 or bool(s["onderdrukt"].iloc[0]) or pd.isna(s["waarde"].iloc[0]):
        return None
    return float(s["waarde"].iloc[0])


def _bron_plafond(g: Gegevens) -> str:
    bronnen = set(g.projectie["bron"].dropna())
    if "budgetplafonds" in bronnen:
        return "budgetplafonds.csv"
    return f"het voorstel voor {g.jaar}: productie {g.jaar - 1} plus indexatie"


# --------------------------------------------------------------------------- sections

def kop(r: Rapport) -> None:
    """The report title with the quarter, data window and peildatum."""
    from . import TITELS
    from .opmaak import kop as _kop

    titel = f"{TITELS.get(r.naam, TITEL)} {r.regio}"
    kw = fmt.kwartaal_label(r.laatste_dag)
    sub = (f"{fmt.periode(kw[:4] + '-' + kw[4:])} · gegevens van {fmt.datum(r.params.start)} tot en met "
           f"{fmt.datum(r.laatste_dag)} (peildatum {fmt.datum(r.params.peildatum)})")
    toon(_kop(titel, sub))


def samenvatting(r: Rapport) -> None:
    """The Samenvatting: proposal, projection against the plafonds, scenarios, stoplicht
    and the largest driver of the last cost change, each built from the numbers."""
    g = gegevens(r)
    z = []
    tot = _w(g, "plafond_voorstel", periode=str(g.doeljaar))
    n_aanb = int((g.voorstel["productie"] > 0).sum())
    if tot is not None:
        z.append(f"Het voorstel voor de budgetplafonds {g.doeljaar} komt uit op {fmt.bedrag_kort(tot)} voor "
                 f"{fmt.getal(n_aanb)} aanbieders: hun productie in {g.basisjaar} met "
                 f"{fmt.procent(g.sp.indexatie, 2)} indexatie per jaar.")
        r.leg_vast(f"plafond_voorstel_{g.doeljaar}", tot)
    pq = _w(g, "scenario_uitbetaling", "scenario=pq")
    boven = _w(g, "aanbieders_boven_plafond")
    if pq is not None and len(g.scenarios):
        b = float(g.scenarios["b"].sum())
        z.append(f"Lineair doorgetrokken vanaf {fmt.maand(r.laatste_dag)} komt de productie van de "
                 f"{fmt.getal(len(g.scenarios))} aanbieders met een plafond in {g.jaar} uit op {fmt.bedrag_kort(pq)}, "
                 f"tegen {fmt.bedrag_kort(b)} aan plafonds ({fmt.procent(pq / b if b else None)} uitnutting; "
                 f"plafonds uit {_bron_plafond(g)}); "
                 f"{fmt.getal(boven or 0)} van hen {'gaat' if boven == 1 else 'gaan'} over het plafond.")
        r.leg_vast(f"productie_prognose_{g.jaar}", pq)
        r.leg_vast(f"aanbieders_boven_plafond_{g.jaar}", boven)
        hard, donut, staf = (_w(g, "scenario_uitbetaling", f"scenario={s}") for s in ("hard", "donuthole", "staffel"))
        if None not in (hard, donut, staf):
            z.append(f"Met een hard plafond betaalt de regio {fmt.bedrag_kort(pq - hard)} minder dan bij P×Q, "
                     f"met de donuthole ({fmt.procent(g.sp.donut_band, 0)} band) {fmt.bedrag_kort(pq - donut)} minder "
                     f"en met staffelkorting ({fmt.procent(g.sp.staffel_korting, 0)} korting boven "
                     f"{fmt.procent(g.sp.staffel_drempel, 0)} van het plafond) {fmt.bedrag_kort(pq - staf)} minder.")
            for s, v in (("hard", hard), ("donuthole", donut), ("staffel", staf)):
                r.leg_vast(f"scenario_{s}_{g.jaar}", v)
    elif g.maanden < 1:
        z.append(f"De peildatum ligt in januari: er is nog geen hele maand van {g.jaar} om door te trekken.")
    top = g.projectie.head(int(g.sp.top_n))
    kl = top["stoplicht"].value_counts()
    if len(top):
        z.append(f"Van de {fmt.getal(len(top))} aanbieders met de meeste productie in {g.jaar} staan er "
                 f"{fmt.getal(kl.get('rood', 0))} op rood (prognose boven het plafond), "
                 f"{fmt.getal(kl.get('oranje', 0))} op oranje (90-100%) en {fmt.getal(kl.get('groen', 0))} op groen"
                 + (f"; {fmt.getal(kl.get('geen plafond', 0))} hebben geen plafond." if kl.get("geen plafond", 0)
                    else "."))
        r.leg_vast("stoplicht_rood", int(kl.get("rood", 0)))
    zin = _verklaring_zin(g)
    if zin:
        z.append(zin)
    r.samenvatting = z
    toon(samenvatting_blok(z))


def _verklaring_zin(g: Gegevens) -> str | None:
    if len(g.verklaring) == 0:
        return None
    jaar = str(g.verklaring["periode"].max())
    waarden = {f: _w(g, "kosten_verklaring", f"factor={f}", jaar) for f in m.FACTOREN}
    if any(v is None for v in waarden.values()):
        return None
    x = g.verklaring[g.verklaring["periode"] == jaar].iloc[0]
    verschil = float(x["verschil"])
    groot = max(waarden, key=lambda f: abs(waarden[f]))
    richting = "hoger" if verschil >= 0 else "lager"
    return (f"De kosten waren in {jaar} {fmt.bedrag_kort(abs(verschil))} {richting} dan in {int(jaar) - 1}; "
            f"de grootste bijdrage volgens de ontleding komt van {FACTOR_NAMEN[groot]} ({FACTOR_UITLEG[groot]}): "
            f"{'+' if waarden[groot] >= 0 else '-'}{fmt.bedrag_kort(abs(waarden[groot]))}.")


def kpi_tegels(r: Rapport) -> None:
    """Headline tiles: proposal, plafonds, projection, aanbieders over and in red."""
    g = gegevens(r)
    pq = _w(g, "scenario_uitbetaling", "scenario=pq")
    b = float(g.scenarios["b"].sum()) if len(g.scenarios) and pq is not None else None
    top = g.projectie.head(int(g.sp.top_n))
    items = [
        Tegel(f"Plafondvoorstel {g.doeljaar}", fmt.bedrag_kort(_w(g, "plafond_voorstel", periode=str(g.doeljaar)))
              if _w(g, "plafond_voorstel", periode=str(g.doeljaar)) is not None else fmt.ONDERDRUKT,
              f"productie {g.basisjaar} + indexatie"),
        Tegel(f"Plafonds {g.jaar}", fmt.bedrag_kort(b) if b is not None else fmt.LEEG,
              f"{fmt.getal(len(g.scenarios))} aanbieders"),
        Tegel(f"Prognose productie {g.jaar}", fmt.bedrag_kort(pq) if pq is not None else fmt.LEEG,
              "lineair doorgetrokken"),
        Tegel("Uitnutting prognose", fmt.procent(pq / b) if pq is not None and b else fmt.LEEG, "van de plafonds"),
        Tegel("Boven plafond", fmt.getal(_w(g, "aanbieders_boven_plafond") or 0), "aanbieders (prognose)"),
        Tegel(f"Rood in top {fmt.getal(len(top))}", fmt.getal(int((top["stoplicht"] == "rood").sum())),
              "uitnutting boven 100%"),
    ]
    toon(kopje("Kerncijfers"), tegels(items))


def plafondvoorstel(r: Rapport) -> None:
    """The proposal per aanbieder for the doeljaar, the split per gemeente and per product."""
    g = gegevens(r)
    v = g.voorstel
    toon(kopje(f"Voorstel budgetplafonds {g.doeljaar}"))
    if len(v) == 0:
        toon(let_op(f"Geen productie (inspanning en traject) in {g.basisjaar}: geen voorstel."))
        return
    f = m.indexfactor(g.sp.indexatie, g.doeljaar, g.basisjaar)
    toon(tekst(f"Per aanbieder: de netto gedeclareerde bedragen van inspannings- en trajectproducten in "
               f"{g.basisjaar} maal (1 + {fmt.procent(g.sp.indexatie, 2)})^{g.doeljaar - g.basisjaar} = "
               f"{fmt.getal(f, 4)}."))
    zicht = v[~v["onderdrukt"]]
    grafiek = zicht.head(15).iloc[::-1]
    if len(grafiek):
        fig = plots.staven(grafiek.iloc[::-1], "aanbieder", "voorstel", titel=f"Voorgesteld plafond {g.doeljaar} "
                           f"per aanbieder (grootste {len(grafiek)}), {r.regio}", xlabel="aanbieder",
                           ylabel="voorgesteld plafond (€)", eenheid="euro", horizontaal=True, waarden=True,
                           leeswijzer=f"Elke balk is de productie van {g.basisjaar} met indexatie; aanbieders met "
                                      f"minder dan {r.params.klein_aantal} cliënten staan niet in de grafiek.")
        toon(fig)
    pb, vd = f"productie {g.basisjaar}", f"voorstel {g.doeljaar}"
    getoond, rest = v.head(TABEL_RIJEN), v.iloc[TABEL_RIJEN:]
    if len(rest) == 1:  # one aanbieder more: show it rather than an "overige" row that is that aanbieder
        getoond, rest = v, v.iloc[0:0]
    rijen = [{"aanbieder": x["aanbieder"], "AGB": x["agb"], pb: x["productie"], vd: x["voorstel"],
              "cliënten": x["n_clienten"], "_o": bool(x["onderdrukt"])} for _, x in getoond.iterrows()]
    if len(rest):
        rijen.append({"aanbieder": f"overige {fmt.getal(len(rest))} aanbieders", "AGB": "",
                      pb: float(rest["productie"].sum()), vd: float(rest["voorstel"].sum()), "cliënten": None,
                      "_o": False})
    tot = _w(g, "plafond_voorstel", periode=str(g.doeljaar))
    rijen.append({"aanbieder": "Totaal", "AGB": "", pb: tot / f if tot is not None else None, vd: tot,
                  "cliënten": None, "_o": tot is None})
    tab = pd.DataFrame(rijen)
    toon(tabel(tab, {f"productie {g.basisjaar}": "euro", f"voorstel {g.doeljaar}": "euro", "cliënten": "aantal"},
               onderdrukt={f"productie {g.basisjaar}": "_o", f"voorstel {g.doeljaar}": "_o"}, totaal=True,
               klein_aantal=r.params.klein_aantal),
         bijschrift(f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten (of nodig om zo’n "
                    "aanbieder niet uit het totaal te kunnen afleiden)."))
    _voorstel_gemeente(r, g)
    _voorstel_product(r, g)


def _voorstel_gemeente(r: Rapport, g: Gegevens) -> None:
    vg = g.voorstel_gemeente
    if len(vg) == 0:
        return
    k = g.kpis[(g.kpis["kpi"] == "plafond_voorstel") & (g.kpis["dimensie"] == "") & (g.kpis["gemeente"] != "")]
    k = k.assign(_o=secundair(k["onderdrukt"].astype(bool), k["waarde"]).to_numpy())
    gem = pd.DataFrame({"gemeente": [r.gemeentenaam(x) for x in k["gemeente"]], f"voorstel {g.doeljaar}": k["waarde"],
                        "_o": k["_o"]}).sort_values("gemeente")
    toon(kopje("Verdeling over de gemeenten", 3),
         tekst("Het plafond van een aanbieder wordt over de gemeenten verdeeld naar ieders aandeel in de productie "
               f"van die aanbieder in {g.basisjaar}."),
         tabel(gem, {f"voorstel {g.doeljaar}": "euro"}, onderdrukt={f"voorstel {g.doeljaar}": "_o"}))
    # the largest aanbieders x gemeenten: a share with fewer than klein_aantal clients behind it is
    # suppressed (with a second one where needed: the shares of a row add up to 100%)
    top = g.voorstel[~g.voorstel["onderdrukt"]].head(10)
    if len(top) == 0:
        return
    d = vg[vg["agb"].isin(top["agb"])].copy()
    d["gemeente"] = [r.gemeentenaam(x) for x in d["gemeentecode"]]
    d["_o"] = False
    for _, idx in d.groupby("agb").groups.items():  # at most 10 aanbieders
        d.loc[idx, "_o"] = onderdrukken(d.loc[idx, "n_clienten"], r.params.klein_aantal).to_numpy()
    d["cel"] = [fmt.waarde(a, "fractie", onderdrukt=bool(o)) for a, o in zip(d["aandeel"], d["_o"])]
    w = d.pivot_table(index="aanbieder", columns="gemeente", values="cel", aggfunc="first").reindex(
        top["aanbieder"]).fillna(fmt.LEEG).reset_index()
    w.columns.name = None
    toon(tabel(w, rechts=list(w.columns[1:])),
         bijschrift(f"Aandeel van elke gemeente in het voorstel van de {len(top)} grootste aanbieders "
                    f"(met ten minste {r.params.klein_aantal} cliënten); “{fmt.ONDERDRUKT}”: minder dan "
                    f"{r.params.klein_aantal} cliënten van die aanbieder in die gemeente (of nodig om zo’n aandeel "
                    "niet uit de andere te kunnen afleiden)."))


def _voorstel_product(r: Rapport, g: Gegevens) -> None:
    vp = g.voorstel_product
    if len(vp) == 0:
        return
    per = vp[["productcode", "productie", "voorstel", "n_clienten"]].rename(columns={"n_clienten": "cliënten"})
    per["_o"] = onderdrukken(per["cliënten"], r.params.klein_aantal).to_numpy()
    per = per.rename(columns={"productie": f"productie {g.basisjaar}", "voorstel": f"voorstel {g.doeljaar}"})
    toon(kopje("Verdeling over de producten", 3),
         tabel(per, {f"productie {g.basisjaar}": "euro", f"voorstel {g.doeljaar}": "euro", "cliënten": "aantal"},
               onderdrukt={f"productie {g.basisjaar}": "_o", f"voorstel {g.doeljaar}": "_o"}, max_rijen=15,
               klein_aantal=r.params.klein_aantal),
         bijschrift("Het voorstel per productcode, opgeteld over de aanbieders."))


def uitnutting(r: Rapport) -> None:
    """Uitnutting so far and projected per aanbieder, with the stoplicht of the top N,
    verzilvering and NGA status."""
    g = gegevens(r)
    top = g.projectie.head(int(g.sp.top_n))
    toon(kopje(f"Uitnutting {g.jaar} en stoplicht van de {len(top)} grootste aanbieders"))
    if len(top) == 0:
        toon(let_op(f"Geen declaraties in {g.jaar} tot de peildatum."))
        return
    if g.maanden < 1:
        toon(let_op(f"De peildatum ligt in januari: er is nog geen hele maand van {g.jaar} om door te trekken."))
    d = top[~top["onderdrukt"] & (top["n_clienten"] >= r.params.klein_aantal) & top["uitnutting"].notna()].copy()
    if len(d) == 0:
        toon(let_op(f"Geen aanbieder met een plafond heeft in {g.jaar} ten minste {r.params.klein_aantal} cliënten: "
                    "geen grafiek."))
    else:
        d["uitnutting_"] = d["uitnutting"].astype("float64")
        fig = plots.staven(d, "aanbieder", "uitnutting_", "stoplicht", gestapeld=True, horizontaal=True,
                           titel=f"Verwachte uitnutting van het plafond {g.jaar} per aanbieder, {r.regio}",
                           xlabel="aanbieder", ylabel="prognose jaareinde / plafond (%)", eenheid="fractie",
                           legenda="stoplicht", kleuren=STOPLICHT_KLEUREN, waarden=True,
                           leeswijzer="Lineaire prognose van de productie tot het jaareinde gedeeld door het "
                                      "plafond; de lijnen staan op 90% (groen tot hier) en 100% (daarboven rood).")
        ax = fig.axes[0]
        for x, kl in ((m.GROEN_TOT, STOPLICHT_KLEUREN["oranje"]), (m.ORANJE_TOT, STOPLICHT_KLEUREN["rood"])):
            ax.axvline(x, color=kl, linestyle="--", linewidth=1)
        toon(fig)
    o = top["onderdrukt"]
    voorstel_bron = top["bron"] == "voorstel"
    tm = f"tot en met {fmt.maand(r.laatste_dag)}"
    vz = f"verzilvering {g.jaar - 1}"
    tab = pd.DataFrame({
        "aanbieder": top["aanbieder"], "plafond": top["plafond"], "uitnutting nu": top["uitnutting_nu"],
        "prognose": top["lineair"], "seizoen": top["seizoen"], "uitnutting prognose": top["uitnutting"],
        "stoplicht": top["stoplicht"], vz: top["verzilvering"], "NGA": top["nga_status"],
        "_o": o, "_op": o & voorstel_bron,
        "_ov": o | onderdrukken(top["verzilvering_n"], r.params.klein_aantal)})
    cols_o = {c: "_o" for c in ("uitnutting nu", "prognose", "seizoen", "uitnutting prognose")} | {
        "plafond": "_op", vz: "_ov"}
    toon(tabel(tab, {"plafond": "euro", "uitnutting nu": "fractie", "prognose": "euro", "seizoen": "euro",
                     "uitnutting prognose": "fractie", vz: "fractie"},
               onderdrukt=cols_o, klein_aantal=r.params.klein_aantal),
         bijschrift(f"Plafonds uit {_bron_plafond(g)}. Uitnutting nu: gedeclareerd {tm} gedeeld door het plafond. "
                    "Prognose: lineair doorgetrokken tot het jaareinde; seizoen: "
                    f"met het seizoenspatroon van {g.jaar - 1}. Stoplicht op de lineaire prognose: "
                    "groen tot en met 90%, "
                    "oranje tot en met 100%, rood daarboven. Verzilvering: gedeclareerd gedeeld door toegewezen "
                    f"(× tarief) van inspanningstoewijzingen die in {g.jaar - 1} eindigden. NGA (niet-gecontracteerd "
                    f"aanbod): ja = geen contract voor de declaraties van {g.jaar}, deels = voor een deel ervan."))


def scenarios(r: Rapport) -> None:
    """The scenario table (payout and difference with P×Q per scenario, aanbieders over
    their plafond) with the parameters stated, and a chart."""
    g = gegevens(r)
    toon(kopje(f"Scenario's voor overproductie in {g.jaar}"))
    if len(g.scenarios) == 0:
        toon(let_op("Geen aanbieders met een plafond en een prognose: geen scenario's."))
        return
    toon(tekst(f"Voor de {fmt.getal(len(g.scenarios))} aanbieders met een plafond: wat de regio betaalt als de "
               "lineaire prognose P uitkomt, tegen plafond B. P×Q: alles; hard plafond: ten hoogste B; donuthole "
               f"(band d = {fmt.procent(g.sp.donut_band, 0)}): tot B alles, tussen B en B×(1+d) alleen B, daarboven "
               f"P - d×B; staffelkorting (drempel s = {fmt.procent(g.sp.staffel_drempel, 0)}, korting k = "
               f"{fmt.procent(g.sp.staffel_korting, 0)}): tot s×B alles, daarboven (1 - k) van de rest."))
    pq = _w(g, "scenario_uitbetaling", "scenario=pq")
    boven = _w(g, "aanbieders_boven_plafond")
    rijen = []
    for s in m.SCENARIOS:
        v = _w(g, "scenario_uitbetaling", f"scenario={s}")
        rijen.append({"scenario": SCENARIO_NAMEN[s], "uitbetaling": v,
                      "verschil met P×Q": None if v is None or pq is None else v - pq,
                      "_o": v is None})
    tab = pd.DataFrame(rijen)
    toon(tabel(tab, {"uitbetaling": "euro", "verschil met P×Q": "euro"},
               onderdrukt={"uitbetaling": "_o", "verschil met P×Q": "_o"}),
         bijschrift(f"{fmt.aantal(boven or 0, 'aanbieder gaat', 'aanbieders gaan')} volgens de prognose over hun plafond. "
                    f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten achter deze bedragen."))
    if not tab["_o"].any():
        fig = plots.staven(tab, "scenario", "uitbetaling", titel=f"Uitbetaling {g.jaar} per scenario, {r.regio}",
                           xlabel="scenario", ylabel="uitbetaling (€)", eenheid="euro", waarden=True,
                           leeswijzer="Hoe lager de staaf, hoe meer de regio bij overproductie bespaart; de "
                                      "aanbieder draagt het verschil met P×Q.")
        toon(fig)
    d = g.scenarios[(g.scenarios["p"] > g.scenarios["b"])].copy()
    d = d[~d["onderdrukt"].fillna(False).astype(bool)]
    if len(d):
        uit = pd.DataFrame({"aanbieder": d["aanbieder"], "prognose P": d["p"],
                            "plafond B": d["b"]} | {SCENARIO_NAMEN[s]: d[s] for s in m.SCENARIOS[1:]})
        toon(kopje("Per aanbieder boven het plafond", 3),
             tabel(uit, {c: "euro" for c in uit.columns[1:]}, max_rijen=25),
             bijschrift(f"Alleen aanbieders met ten minste {r.params.klein_aantal} cliënten."))


def rood(r: Rapport) -> None:
    """What a controller needs to discuss with the aanbieders in red: per aanbieder its
    projection, plafond, overrun, what each rule would withhold, verzilvering and NGA."""
    g = gegevens(r)
    top = g.projectie.head(int(g.sp.top_n))
    d = top[top["stoplicht"] == "rood"]
    toon(kopje("Gespreksagenda: aanbieders in het rood"))
    if len(d) == 0:
        toon(tekst(f"Geen van de {len(top)} grootste aanbieders staat op rood."))
        return
    sc = g.scenarios.set_index("agb")
    punten = []
    for _, x in d.iterrows():  # at most top_n aanbieders
        if x["onderdrukt"]:
            punten.append(f"<li><b>{e(x['aanbieder'])}</b>: prognose boven het plafond (bedragen niet getoond: "
                          f"minder dan {r.params.klein_aantal} cliënten).</li>")
            continue
        s = sc.loc[x["agb"]] if x["agb"] in sc.index else None
        tekst_ = (f"<b>{e(x['aanbieder'])}</b> (AGB {e(x['agb'])}): prognose {fmt.bedrag(x['lineair'])} "
                  f"tegen een plafond van {fmt.bedrag(x['plafond'])} ({fmt.procent(x['uitnutting'])}); "
                  f"overschrijding {fmt.bedrag(x['lineair'] - x['plafond'])}")
        if not pd.isna(x["seizoen"]):
            tekst_ += f" (met het seizoenspatroon: {fmt.bedrag(x['seizoen'])})"
        if s is not None:
            tekst_ += (f". Niet betaald bij een hard plafond {fmt.bedrag(s['pq'] - s['hard'])}, bij donuthole "
                       f"{fmt.bedrag(s['pq'] - s['donuthole'])}, bij staffelkorting "
                       f"{fmt.bedrag(s['pq'] - s['staffel'])}")
        if not pd.isna(x["verzilvering"]) and x["verzilvering_n"] >= r.params.klein_aantal:
            tekst_ += f". Verzilvering {g.jaar - 1}: {fmt.procent(x['verzilvering'])}"
        tekst_ += {"ja": ". Niet gecontracteerd (NGA).", "deels": ". Deels niet gecontracteerd (NGA)."}.get(
            x["nga_status"], ".")
        punten.append(f"<li>{tekst_}</li>")
    toon(tekst("Bespreekpunten: ligt de groei aan meer cliënten of aan meer zorg per cliënt, is een "
               "wachtlijst of afschaling nodig, en welk scenario geldt bij overschrijding.",
               f"<ul>{''.join(punten)}</ul>", html=True))


# --------------------------------------------------------------------------- why cost rose

def waterval(start: float, effecten: dict[str, float], eind: float, *, titel: str, leeswijzer: str,
             label_start: str, label_eind: str):
    """A waterfall chart: the bar ``start``, each effect as a floating bar (green down,
    orange up), the bar ``eind``."""
    fig, ax = plots.figuur()
    namen = [label_start] + [FACTOR_NAMEN.get(k, k) for k in effecten] + [label_eind]
    niveau = start
    ax.bar(0, start, color=plots.KLEUREN[0])
    ax.text(0, start, fmt.bedrag_kort(start), ha="center", va="bottom", fontsize=8)
    for i, (_k, v) in enumerate(effecten.items(), start=1):
        ax.bar(i, v, bottom=niveau, color=STOPLICHT_KLEUREN["oranje"] if v >= 0 else STOPLICHT_KLEUREN["groen"])
        ax.text(i, max(niveau, niveau + v), ("+" if v >= 0 else "-") + fmt.bedrag_kort(abs(v)),
                ha="center", va="bottom", fontsize=8)
        ax.plot([i - 1 + 0.4, i - 0.4], [niveau, niveau], color="#777777", linewidth=0.8)
        niveau += v
    n = len(namen) - 1
    ax.plot([n - 1 + 0.4, n - 0.4], [niveau, niveau], color="#777777", linewidth=0.8)
    ax.bar(n, eind, color=plots.KLEUREN[0])
    ax.text(n, eind, fmt.bedrag_kort(eind), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(namen)), [x.replace(" ", "\n", 1) if len(x) > 14 else x for x in namen], fontsize=8)
    ax.grid(axis="x", visible=False)
    lo = min(start, eind, *(start + np.cumsum(list(effecten.values()))))
    hi = max(start, eind, *(start + np.cumsum(list(effecten.values()))))
    ax.set_ylim(max(0.0, lo - 0.25 * (hi - lo)), hi + 0.12 * (hi - lo))
    from matplotlib.ticker import FuncFormatter

    fig = plots.afwerken(fig, ax, titel=titel, xlabel="", ylabel="kosten (€)", leeswijzer=leeswijzer)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.bedrag_kort(v)))  # "€ 10,5 mln": distinct ticks
    return fig


def kosten_verklaring(r: Rapport) -> None:
    """Why cost rose: the LMDI decomposition of each complete year's change as a
    waterfall (last year) and a table (every year), and per productgroep."""
    g = gegevens(r)
    toon(kopje("Waarom stegen de kosten?"))
    if len(g.verklaring) == 0:
        toon(let_op("Er zijn geen twee volledige jaren in het venster om te vergelijken."))
        return
    k = g.kpis[(g.kpis["kpi"] == "kosten_verklaring") & (g.kpis["gemeente"] == "")]
    jaar = str(g.verklaring["periode"].max())
    laatste = k[k["periode"] == jaar]
    x = g.verklaring[g.verklaring["periode"] == jaar].iloc[0]
    if len(laatste) and not laatste["onderdrukt"].any():
        eff = {f: float(laatste.loc[laatste["dimensie"] == f"factor={f}", "waarde"].iloc[0]) for f in m.FACTOREN}
        fig = waterval(float(x["kosten_vorig"]), eff, float(x["kosten"]),
                       titel=f"Van de kosten in {int(jaar) - 1} naar {jaar}: bijdrage per factor, {r.regio}",
                       label_start=f"kosten {int(jaar) - 1}", label_eind=f"kosten {jaar}",
                       leeswijzer="Oranje staven duwen de kosten omhoog, groene omlaag; samen overbruggen ze "
                                  "precies het verschil tussen de twee jaren (LMDI-ontleding, metrics.md §11). De "
                                  "verticale as begint niet bij nul.")
        toon(fig)
    else:
        toon(let_op(f"De ontleding van {jaar} rust op minder dan {r.params.klein_aantal} cliënten en wordt "
                    "niet getoond."))
    tab = []
    for p in sorted(g.verklaring["periode"]):
        rij = {"jaar": f"{int(p) - 1} → {p}"}
        sel = k[k["periode"] == p]
        onderdrukt = len(sel) == 0 or sel["onderdrukt"].any()
        y = g.verklaring[g.verklaring["periode"] == p].iloc[0]
        rij["verschil"] = None if onderdrukt else float(y["verschil"])
        for f in m.FACTOREN:
            w = sel.loc[sel["dimensie"] == f"factor={f}", "waarde"]
            rij[FACTOR_KORT[f]] = None if onderdrukt else float(w.iloc[0])
        rij["_o"] = onderdrukt
        tab.append(rij)
    tab = pd.DataFrame(tab)
    cols = [c for c in tab.columns if c not in ("jaar", "_o")]
    toon(tabel(tab, {c: "euro" for c in cols}, onderdrukt={c: "_o" for c in cols}),
         bijschrift("; ".join(f"{FACTOR_KORT[f]}: {FACTOR_UITLEG[f]}" for f in m.FACTOREN) + ". De bijdragen "
                    "tellen op tot het verschil."))
    vg = g.verklaring_groep[g.verklaring_groep["periode"] == jaar].copy()
    if len(vg):
        vg["_o"] = onderdrukken(vg["n_clienten"], r.params.klein_aantal).to_numpy()
        vg = vg.sort_values("verschil", ascending=False)
        t2 = pd.DataFrame({"productgroep": vg["productgroep"], f"kosten {jaar}": vg["kosten"],
                           "verschil": vg["verschil"]} | {FACTOR_KORT[f]: vg[f] for f in m.FACTOREN}
                          | {"_o": vg["_o"]})
        cols = [c for c in t2.columns if c not in ("productgroep", "_o")]
        toon(kopje(f"Per productgroep, {int(jaar) - 1} → {jaar}", 3),
             tabel(t2, {c: "euro" for c in cols}, onderdrukt={c: "_o" for c in cols}),
             bijschrift("Dezelfde ontleding binnen elke productgroep (cliënten met declaraties in die groep). "
                        f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten."))


# --------------------------------------------------------------------------- Toelichting

def toelichting(r: Rapport) -> None:
    """The Toelichting with the parameters and definitions of section 11."""
    from .toelichting import toelichting as _toelichting

    g = gegevens(r)
    sp = g.sp
    extra = [
        f"Parameters sturing: doeljaar {g.doeljaar}, basisjaar {g.basisjaar}, indexatie "
        f"{fmt.procent(sp.indexatie, 2)} per jaar, donuthole-band {fmt.procent(sp.donut_band, 0)}, staffeldrempel "
        f"{fmt.procent(sp.staffel_drempel, 0)} van het plafond, staffelkorting {fmt.procent(sp.staffel_korting, 0)}, "
        f"stoplicht voor de {sp.top_n} aanbieders met de meeste productie.",
        "Productie: netto gedeclareerd bedrag van inspannings- en trajectproducten (plekfinanciering telt niet mee).",
        f"Plafonds {g.jaar}: {_bron_plafond(g)}. Een plafond uit budgetplafonds.csv dekt alle declaraties van de "
        "aanbieder (beperkt tot de productcode en gemeente als die zijn ingevuld); zonder budgetplafonds.csv is het "
        f"plafond het voorstel voor {g.jaar} uit de productie van {g.jaar - 1}.",
        f"Prognose: lineair = tot nu toe × 12 / {g.maanden} hele maanden; seizoen = tot nu toe gedeeld door het deel "
        f"van {g.jaar - 1} dat in dezelfde maanden viel. Recente maanden zijn nog onvolledig gedeclareerd, dus beide "
        "prognoses vallen eerder te laag dan te hoog uit.",
        "Ontleding (LMDI-I): kosten = Σ N × (n_i/N) × (q_i/n_i) × (C_i/q_i) over producten i (productcode; uren, "
        "minuten en dagdelen omgerekend naar uren), met N cliënten met een positief gedeclareerd bedrag, n_i van hen "
        "met product i, q_i het gedeclareerde volume en C_i de kosten; het effect van een factor is Σ L(C_i^t, "
        "C_i^t-1) × ln(factor^t / factor^t-1) met het logaritmisch gemiddelde L. Producten die in één van beide "
        "jaren ontbreken (of zonder volume) vormen ‘nieuwe en vervallen producten’.",
        "KPI's van deze sectie (metrics.md §11): plafond_voorstel, scenario_uitbetaling, aanbieders_boven_plafond, "
        "kosten_verklaring.",
    ]
    toon(kopje("Toelichting"), _toelichting(r, extra))
