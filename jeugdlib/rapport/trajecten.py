"""Report 2, Trajecten (reports.md): per productgroep with traject products.

Zorgpaden, labels, doorlooptijd, volume and ratios come from
:mod:`jeugdlib.metrics.trajecten`; clients, toewijzingen, aanbieders and cost of
one productgroep come from the volume and kosten metrics run on the cleaned
data restricted to that productgroep (:func:`deel`). Distributions are shown as
shares of the productgroep's zorgpaden (never as small counts); counts below
``klein_aantal`` are suppressed. ``uitsluiten_agb`` (``params.exclude_agb``)
leaves named aanbieders out of everything.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from .. import engine, fmt, plots
from ..metrics import toetsen
from ..metrics import trajecten as T
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, toon
from .reeksen import onvolledig_vanaf, periode_naam, reeks, waarde_in


def groepen(r: Rapport) -> list[str]:
    """The productgroepen with traject products in this region."""
    if "groepen" not in r._cache:
        r._cache["groepen"] = T.traject_groepen(r.cleaned)
    return r._cache["groepen"]


def zorgpaden(r: Rapport) -> pd.DataFrame:
    """All zorgpaden of the traject productgroepen (client-free), computed once."""
    if "zp" not in r._cache:
        r._cache["zp"] = T.zorgpaden_lijst(r.cleaned)
    return r._cache["zp"]


def ratios(r: Rapport):
    if "ratios" not in r._cache:
        r._cache["ratios"] = T.traject_ratios(r.cleaned)
    return r._cache["ratios"]


def groep_deel(c, productgroep: str, gemeenten: list[str] | None = None):
    """The cleaned data ``c`` restricted to one productgroep, for the volume and kosten
    metrics of that group (:meth:`jeugdlib.clean.Cleaned.deel`: views, not copies; a
    KPI's scan with the filter costs a fraction of a second, a copy of a national
    productgroep's rows 4 s). ``gemeenten``: besides, only these gemeentecodes."""
    from ..engine import _lit, lijst

    waar = f"productgroep = {_lit(productgroep)}"
    if gemeenten is not None:
        waar += f" AND gemeentecode IN ({lijst(gemeenten)})"
    return c.deel(waar, waar)


def deel(r: Rapport, productgroep: str):
    """This report's cleaned data restricted to one productgroep (:func:`groep_deel`), made once."""
    key = ("deel", productgroep)
    if key not in r._cache:
        r._cache[key] = groep_deel(r.cleaned, productgroep)
    return r._cache[key]


#: The KPIs the report shows per productgroep: in the tiles (per jaar), in the monthly
#: chart (per maand) and beside the figures without the largest aanbieder.
GROEP_KPIS = {"jaar": ["clienten", "toewijzingen", "aanbieders", "kosten", "kosten_per_client"],
              "maand": ["clienten", "toewijzingen"]}
ZONDER_KPIS = ["clienten", "kosten", "kosten_per_client", "aandeel_pq_in_traject"]


#: Period kinds of :data:`GROEP_KPIS` the quarterly run stores (``kpi_groep_<per>.parquet``).
GROEP_PERIODEN = tuple(GROEP_KPIS)


def groep_kpi_rijen(c, per: str, gemeenten: list[str] | None = None) -> pd.DataFrame:
    """Unsuppressed rows of the :data:`GROEP_KPIS` of ``per`` for every productgroep with
    traject products, each computed on the cleaned data ``c`` restricted to that group
    (:func:`groep_deel`), with a column ``productgroep``. The quarterly run computes them
    once for the regions it reports on (``kpi_groep_<per>.parquet``); a regio's rows
    (and its gemeenten') are those a report on that region alone computes.
    ``gemeenten``: only the records of these gemeentecodes (the run's regions)."""
    import dataclasses as dc

    from .laden import kpi_rijen

    p = dc.replace(c.params, per=per)
    delen = []
    for g in T.traject_groepen(c):
        cg = groep_deel(c, g, gemeenten)
        delen.append(kpi_rijen(cg, GROEP_KPIS[per], p).assign(productgroep=g))
        cg.con.close()
    if not delen:
        from .. import kpi

        return pd.DataFrame({k: pd.Series([], dtype="string") for k in kpi.ROW_COLUMNS + ["productgroep"]})
    return pd.concat(delen, ignore_index=True)


def _kpis_groep(r: Rapport, productgroep: str, per: str = "jaar") -> pd.DataFrame:
    """Suppressed rows of the :data:`GROEP_KPIS` of ``per`` for one productgroep in this
    region: from the quarterly run's stored rows when the report reads a run with its
    parameters (the rows of the region and its gemeenten, which are those a report on the
    region alone computes; the report shows no others), else computed here on :func:`deel`."""
    from .laden import _afwerken, kpi_rijen

    key = ("kpis_groep", productgroep, per)
    if key not in r._cache:
        p = dataclasses.replace(r.params, per=per)
        f = r.opslag / f"kpi_groep_{per}.parquet" if r.opslag else None
        if f is not None and f.exists() and ("kpi_groep", per) not in r._cache:
            r._cache[("kpi_groep", per)] = pd.read_parquet(f, filters=[("regio", "==", r.regio)])
        opgeslagen = r._cache.get(("kpi_groep", per))
        if opgeslagen is not None and len(opgeslagen):  # none: a region the run did not report on
            rows = opgeslagen[opgeslagen["productgroep"] == productgroep].drop(columns="productgroep")
        else:
            rows = kpi_rijen(deel(r, productgroep), GROEP_KPIS[per], p)
        r._cache[key] = _afwerken(rows, p)
    return r._cache[key]


def _jaar(r: Rapport) -> str | None:
    j = r.jaren()
    vol = j.loc[~j["voorlopig"], "periode"]
    return str(vol.iloc[-1]) if len(vol) else None


def samenvatting(r: Rapport) -> None:
    """Per productgroep: zorgpaden (tested against the year before), labels, maatwerk share."""
    zp = zorgpaden(r)
    zinnen_ = []
    if len(zp) == 0:
        zinnen_.append(f"Er zijn geen zorgpaden van trajectproducten in {r.regio} in dit venster.")
    k = r.kpis("trajecten")
    jaar = _jaar(r)
    for g, s in T.label_samenvatting(zp).set_index("productgroep").iterrows():
        z = (f"{g}: {fmt.getal(s['zorgpaden'])} zorgpaden die liepen tussen {fmt.datum(r.params.start)} en de "
             f"peildatum (ook als ze eerder begonnen) met {fmt.getal(s['uniek'])} verschillende "
             f"labels; de vijf meest voorkomende dekken {fmt.procent(s['top5_dekking'])}, en "
             f"{fmt.procent(s['aandeel_meer_maatwerk'])} bevat maatwerk of meerwerk.")
        if s["zorgpaden"] < r.params.klein_aantal:
            z = f"{g}: minder dan {r.params.klein_aantal} zorgpaden; niet getoond."
        r.leg_vast(f"zorgpaden_{g}", float(s["zorgpaden"]))
        r.leg_vast(f"zorgpaden_uniek_{g}", float(s["uniek"]))
        if jaar:
            vorig = str(int(jaar) - 1)
            nu = waarde_in(k, "zorgpaden", r.regio, jaar, dimensie=f"productgroep={g}")
            vo = waarde_in(k, "zorgpaden", r.regio, vorig, dimensie=f"productgroep={g}")
            if nu is not None and vo:
                t = toetsen.verandering_aantal(int(nu), int(vo))
                wat = (("meer" if t.schatting > 0 else "minder") + " zorgpaden dan in " + vorig +
                       f" ({fmt.procent(t.schatting, teken=True)}; significant, {fmt.p_waarde(t.p_waarde)}, "
                       "Poisson-toets)") if t.significant else (
                       f"ongeveer evenveel zorgpaden als in {vorig} ({fmt.procent(t.schatting, teken=True)}; "
                       f"niet significant, {fmt.p_waarde(t.p_waarde)}, Poisson-toets)")
                z = z[:-1] + f"; in {jaar} begonnen er {fmt.getal(nu)}: {wat}."
        pq_p = [p for p in sorted(k.loc[(k["kpi"] == "aandeel_pq_in_traject") & (k["regio"] == r.regio), "periode"].unique())]
        if pq_p:
            lp = pq_p[-1]
            v = waarde_in(k, "aandeel_pq_in_traject", r.regio, lp, dimensie=f"productgroep={g}")
            if v is not None:
                z = z[:-1] + (f"; in {periode_naam(r, lp, lp == r.huidig_jaar())} ging {fmt.procent(v)} van de "
                              "kosten naar maatwerk en meerwerk.")
                r.leg_vast(f"aandeel_pq_in_traject_{g}_{lp}", v)
        zinnen_.append(z)
    if r.params.exclude_agb:
        zinnen_.append(f"Zonder {'de aanbieder' if len(r.params.exclude_agb) == 1 else 'de aanbieders'} "
                       f"{fmt.lijst(r.params.exclude_agb)}: alle cijfers zijn "
                       "zonder hun toewijzingen en declaraties berekend.")
    r.samenvatting = zinnen_
    toon(samenvatting_blok(zinnen_))


def groep_tegels(r: Rapport, productgroep: str) -> None:
    """Tile for one productgroep in the reference year (last complete year)."""
    jaar = _jaar(r)
    toon(kopje(f"Productgroep {productgroep}"))
    if jaar is None:
        return
    k = _kpis_groep(r, productgroep)
    def cel(kpi, een):
        s = reeks(k, kpi, r.regio)
        s = s[s["periode"] == jaar]
        if len(s) == 0:
            return fmt.LEEG
        return fmt.waarde(s["waarde"].iloc[0], een, onderdrukt=bool(s["onderdrukt"].iloc[0]))
    items = [Tegel("Cliënten", cel("clienten", "aantal"), f"in {jaar}"),
             Tegel("Toewijzingen", cel("toewijzingen", "aantal"), f"in {jaar}"),
             Tegel("Aanbieders", cel("aanbieders", "aantal"), f"met declaraties in {jaar}"),
             Tegel("Kosten", fmt.bedrag_kort(waarde_in(k, "kosten", r.regio, jaar)), f"in {jaar}"),
             Tegel("Kosten per cliënt", cel("kosten_per_client", "euro"), f"in {jaar}")]
    r.leg_vast(f"kosten_{productgroep}_{jaar}", waarde_in(k, "kosten", r.regio, jaar))
    toon(tegels(items))


def samenstelling(r: Rapport, productgroep: str) -> None:
    """Cost composition by zwaarte and variant per year, with the maatwerk/meerwerk share."""
    ks = T.kosten_samenstelling(r.cleaned, groepen=[productgroep], per="jaar")
    if len(ks) == 0:
        return
    ks = ks.copy()
    ks["kosten"] = ks["kosten_cent"].astype(float) / 100
    vl = set(r.jaren().query("voorlopig")["periode"].astype(str))
    ks["jaar"] = [periode_naam(r, str(p), str(p) in vl) for p in ks["periode"]]
    volgorde = {"Licht": 0, "Midden": 1, "Zwaar": 2, "Maatwerk": 3, "Meerwerk": 4}
    ks["_o"] = ks["categorie"].map(volgorde).fillna(9)
    fig = plots.staven(ks.sort_values(["periode", "_o"]), "jaar", "kosten", "categorie", gestapeld=True,
                       titel=f"Kosten van {productgroep} naar zwaarte en variant per jaar, {r.regio}",
                       xlabel="jaar", ylabel="kosten (€)", eenheid="euro", legenda="zwaarte / variant",
                       waarden=True, kleuren=plots.ZWAARTE_KLEUREN, leeswijzer="Licht, midden en zwaar zijn trajecten; maatwerk en meerwerk "
                                                "worden per uur (P×Q) betaald bovenop of in plaats van een traject.")
    toon(kopje("Kostensamenstelling", 3), fig)


def venster_tekst(r: Rapport, zp: pd.DataFrame) -> str:
    """Which zorgpaden a count covers: those that ran in the window, also when they
    began before its start (said with their number)."""
    voor = int((pd.to_datetime(zp["start"]) < pd.Timestamp(r.params.start)).sum()) if "start" in zp else 0
    tekst_ = f"alle zorgpaden die liepen tussen {fmt.datum(r.params.start)} en de peildatum"
    if voor:
        tekst_ += f"; {fmt.getal(voor)} daarvan begonnen al vóór {fmt.datum(r.params.start)}"
    return tekst_


def zonder_grootste(r: Rapport, productgroep: str) -> None:
    """The main figures of the productgroep with and without its largest aanbieder (by
    cost in the reference year): how one aanbieder shapes the picture (reports.md 2)."""
    from .laden import _afwerken, kpi_rijen

    jaar = _jaar(r)
    if jaar is None:
        return
    con = r.cleaned.con
    top = engine.df(con, f"""
        SELECT agb, sum(bedrag_cent) AS kosten FROM declaraties
        WHERE productgroep = $1 AND year(periode_begin) = {int(jaar)}
        GROUP BY agb ORDER BY kosten DESC, agb LIMIT 1""", [productgroep])
    if len(top) == 0:
        return
    agb = str(top["agb"].iloc[0])
    zonder = r.cleaned.deel(f"productgroep = {engine._lit(productgroep)} AND agb <> {engine._lit(agb)}",
                            f"productgroep = {engine._lit(productgroep)} AND agb <> {engine._lit(agb)}")
    p = dataclasses.replace(r.params, per="jaar")
    met_k = _kpis_groep(r, productgroep)
    zonder_k = _afwerken(kpi_rijen(zonder, ZONDER_KPIS, p), p)
    met_t = r.kpis("trajecten")
    naam = r.cleaned.aanbieders.set_index(r.cleaned.aanbieders["agb"].astype(str))["naam"].get(agb, agb)
    rows = []
    for kpi, label, een, dim in (("clienten", "Cliënten", "aantal", ""), ("kosten", "Kosten", "euro", ""),
                                 ("kosten_per_client", "Kosten per cliënt", "euro", ""),
                                 ("aandeel_pq_in_traject", "Aandeel maatwerk en meerwerk in de kosten", "fractie",
                                  f"productgroep={productgroep}")):
        cel = []
        for k in ((met_t if kpi == "aandeel_pq_in_traject" else met_k), zonder_k):
            s_ = reeks(k, kpi, r.regio, dimensie=dim)
            s_ = s_[s_["periode"] == jaar]
            cel.append(fmt.waarde(s_["waarde"].iloc[0], een, onderdrukt=bool(s_["onderdrukt"].iloc[0]))
                       if len(s_) else fmt.LEEG)
            if kpi == "aandeel_pq_in_traject" and len(s_) and not s_["onderdrukt"].iloc[0]:
                r.leg_vast(f"aandeel_pq_{productgroep}_{jaar}_{'zonder' if k is zonder_k else 'met'}_grootste",
                           float(s_["waarde"].iloc[0]))
        if kpi == "clienten":  # met - zonder = the aanbieder's clients: never fewer than klein_aantal shown
            a_, b_ = (waarde_in(k, "clienten", r.regio, jaar) for k in (met_k, zonder_k))
            if a_ is not None and b_ is not None and 0 < a_ - b_ < r.params.klein_aantal:
                cel[1] = fmt.ONDERDRUKT
        rows.append({"": label, "alle aanbieders": cel[0], f"zonder {naam}": cel[1]})
    df = pd.DataFrame(rows)
    totaal = engine.df(con, f"SELECT sum(bedrag_cent) AS k FROM declaraties WHERE productgroep = $1 "
                            f"AND year(periode_begin) = {int(jaar)}", [productgroep])["k"].iloc[0]
    aandeel = float(top["kosten"].iloc[0]) / max(1.0, float(totaal or 0))
    toon(kopje(f"Zonder de grootste aanbieder ({jaar})", 3), tabel(df, rechts=list(df.columns[1:])),
         bijschrift(f"{naam} declareerde in {jaar} {fmt.procent(aandeel)} van de kosten van {productgroep}. De "
                    "rechterkolom is berekend zonder de toewijzingen en declaraties van die aanbieder: zo is te zien "
                    "hoe één grote aanbieder het beeld bepaalt."))


def top_zorgpaden(r: Rapport, productgroep: str) -> None:
    """Top-10 labels with counts (suppressed below klein_aantal) and shares."""
    zp = zorgpaden(r)
    zp = zp[zp["productgroep"] == productgroep]
    if len(zp) < r.params.klein_aantal:
        toon(let_op(f"Minder dan {r.params.klein_aantal} zorgpaden in {productgroep}: niet getoond."))
        return
    top = T.top_labels(zp, 10)
    sam = T.label_samenvatting(zp).iloc[0]
    # a share beside a suppressed count would give the count back (share x total): both hidden
    df = pd.DataFrame({"rang": top["rang"], "zorgpad": top["label"], "aantal": top["aantal"],
                       "aandeel": top["aandeel"],
                       "_o": top["aantal"] < r.params.klein_aantal})
    toon(kopje("De tien meest voorkomende zorgpaden", 3),
         tabel(df, {"rang": "aantal", "aantal": "aantal", "aandeel": "fractie"},
               onderdrukt={"aantal": "_o", "aandeel": "_o"}),
         bijschrift(f"{fmt.getal(sam['zorgpaden'])} zorgpaden ({venster_tekst(r, zp)}), "
                    f"{fmt.getal(sam['uniek'])} verschillende labels; "
                    f"de vijf meest voorkomende dekken {fmt.procent(sam['top5_dekking'])}, "
                    f"{fmt.procent(sam['aandeel_meer_maatwerk'])} bevat maatwerk of meerwerk. Een label als "
                    "“Zwaar > Zwaar-Maatwerk > Maatwerk” is de volgorde van de producten in het zorgpad."))


def per_maand(r: Rapport, productgroep: str) -> None:
    """Cliënten and toewijzingen of the productgroep per month."""
    k = _kpis_groep(r, productgroep, per="maand")
    d = pd.concat([reeks(k, "clienten", r.regio).assign(reeks="cliënten"),
                   reeks(k, "toewijzingen", r.regio).assign(reeks="toewijzingen")])
    if len(d) == 0:
        return
    d["maand"] = pd.to_datetime(d["periode"] + "-01")
    onv = onvolledig_vanaf(r)
    grijs = onv is not None and d["maand"].max() >= onv
    fig = plots.lijnen(d, "maand", "waarde", "reeks", titel=f"Cliënten en toewijzingen van {productgroep} per maand, "
                       f"{r.regio}", xlabel="maand", ylabel="aantal", eenheid="aantal", markers=False,
                       voorlopig_vanaf=onv if grijs else None, voorlopig_tekst="onvolledig",
                       leeswijzer="Een maand telt elke toewijzing die op minstens één dag van die maand liep; "
                                  "maanden met minder dan 10 cliënten ontbreken."
                                  + (" Grijs: maanden waarvan de declaraties nog onvolledig zijn (toewijzingen "
                                     "zijn wel compleet)." if grijs else ""))
    toon(kopje("Cliënten en toewijzingen per maand", 3), fig)


def _aandeel(df: pd.DataFrame) -> pd.DataFrame:
    tot = df["aantal"].sum()
    return df.assign(aandeel=df["aantal"] / tot if tot else 0.0)


def volume_positie(uren: float) -> float:
    """Where ``uren`` lies on the axis of the volume classes (category units: class i
    spans i - 0,5 .. i + 0,5), interpolated within its class."""
    g = T.VOLUME_GRENZEN
    for i in range(len(g) - 1):
        if uren < g[i + 1]:
            return i - 0.5 + (max(uren, g[i]) - g[i]) / (g[i + 1] - g[i])
    return len(g) - 1.0


def duur_positie(maanden: float) -> float:
    """Where a number of months lies on the axis of the doorlooptijd classes 1 .. 24, >24."""
    return min(float(maanden), 25.0) - 1.0


def volume_en_duur(r: Rapport, productgroep: str) -> None:
    """Volume classes (hours) against the norm hours, doorlooptijd against the norm months."""
    zp = zorgpaden(r)
    zp = zp[zp["productgroep"] == productgroep]
    if len(zp) < r.params.klein_aantal:
        return
    nm = T.normen(r.cleaned.producten)
    nm = nm[nm["productgroep"] == productgroep]
    norm_tekst = fmt.lijst([f"{z} {fmt.getal(u)} uur" for z, u in zip(nm["zwaarte"], nm["norm_uren"])
                            if not pd.isna(u)]) or "geen normen bekend"
    vk = _aandeel(T.volume_klassen(zp))
    normen = [(volume_positie(u), f"{z} {fmt.getal(u)} uur") for z, u in zip(nm["zwaarte"], nm["norm_uren"])
              if not pd.isna(u)]
    fig = plots.staven(vk, "klasse", "aandeel", titel=f"Zorgpaden van {productgroep} naar geleverd volume, {r.regio}",
                       xlabel="volume per zorgpad (uren)", ylabel="aandeel van de zorgpaden (%)", eenheid="fractie",
                       waarden=True, normen=normen,
                       leeswijzer=f"De stippellijnen zijn de normuren per traject ({norm_tekst}). Zorgpaden rechts "
                                  "van de norm kregen meer uren dan het traject voorschrijft.")
    toon(kopje("Volume tegen de normuren", 3), fig)
    dv = T.doorlooptijd_verdeling(zp, r.cleaned.producten)
    if len(dv):
        norm_m = dv["norm_maanden"].dropna()
        dv = _aandeel(dv)
        nm_ = [(duur_positie(norm_m.iloc[0]), f"normduur {fmt.getal(norm_m.iloc[0])} maanden")] if len(norm_m) else []
        fig = plots.staven(dv, "klasse", "aandeel",
                           titel=f"Doorlooptijd van zorgpaden van {productgroep}, {r.regio}",
                           xlabel="maanden met declaraties", ylabel="aandeel van de zorgpaden (%)",
                           eenheid="fractie", normen=nm_,
                           leeswijzer=(f"De stippellijn is de normduur ({fmt.getal(norm_m.iloc[0])} maanden). "
                                       if len(norm_m) else "")
                           + "Zorgpaden die nog lopen, hebben hun uiteindelijke doorlooptijd nog niet bereikt.")
        toon(kopje("Doorlooptijd tegen de normduur", 3), fig)


def bubbels(r: Rapport, productgroep: str) -> None:
    """The verzilvering bubble chart: volume_ratio against kosten_ratio of ended trajecten."""
    tr = ratios(r)
    t = tr.tabel[tr.tabel["productgroep"] == productgroep]
    if len(t.dropna(subset=["volume_ratio", "kosten_ratio"])) < r.params.klein_aantal:
        return
    b = T.bubbel_data(t)
    med_v, med_k = t["volume_ratio"].median(), t["kosten_ratio"].median()
    r.leg_vast(f"traject_kosten_ratio_{productgroep}", med_k)
    fig = plots.bubbels(b, "volume_klasse", "kosten_klasse", "aantal",
                        titel=f"Geleverd tegen norm bij beëindigde trajecten van {productgroep}, {r.regio}",
                        xlabel="maanden met declaratie / normduur (%)", ylabel="gedeclareerd / trajectprijs (%)",
                        leeswijzer=f"Elke bel is een klasse van 10 procentpunt, groter = meer trajecten. Mediaan: "
                                   f"{fmt.procent(med_v, 0)} van de normduur en {fmt.procent(med_k, 0)} van de prijs.")
    uitleg = ("Zonder JW307-berichten in de gegevens gelden alle trajecten die vóór de peildatum eindigden als "
              "regulier beëindigd." if tr.fallback else "Alleen trajecten die regulier eindigden (JW307, reden 31).")
    toon(kopje("Verzilvering van trajecten", 3), fig, bijschrift(uitleg))


def verlenging(r: Rapport) -> None:
    """Verlenging and recidief per financieringsvorm per year."""
    k = r.kpis("verlenging")
    k = k[(k["regio"] == r.regio) & (k["gemeente"] == "")]
    if len(k) == 0:
        return
    rows = []
    for (kpi, dim), g in k.groupby(["kpi", "dimensie"], sort=True):
        rij = {"": "verlengd" if kpi == "verlenging" else "recidief",
               "financieringsvorm": dim.replace("financieringsvorm=", "") or "alle"}
        for _, x in g.sort_values("periode").iterrows():
            rij[periode_naam(r, x["periode"], x["voorlopig"])] = fmt.waarde(x["waarde"], "fractie",
                                                                             onderdrukt=x["onderdrukt"])
        rows.append(rij)
    df = pd.DataFrame(rows).fillna(fmt.LEEG)
    toon(kopje("Verlenging en recidief"), tabel(df, rechts=list(df.columns[2:])),
         bijschrift(f"Verlengd: binnen {r.params.aansluit_dagen} dagen sluit een langere toewijzing in dezelfde "
                    f"productgroep aan. Recidief: niet verlengd, maar binnen {r.params.recidief_dagen} dagen "
                    "een nieuwe toewijzing. Per jaar van de einddatum."))


def groep(r: Rapport, productgroep: str) -> None:
    """All sections of one productgroep."""
    groep_tegels(r, productgroep)
    samenstelling(r, productgroep)
    zonder_grootste(r, productgroep)
    top_zorgpaden(r, productgroep)
    per_maand(r, productgroep)
    volume_en_duur(r, productgroep)
    bubbels(r, productgroep)


def alle_groepen(r: Rapport) -> None:
    """The sections of every productgroep with traject products."""
    gs = groepen(r)
    if not gs:
        toon(let_op(f"Geen productgroepen met trajectproducten in {r.regio}."))
    for g in gs:
        groep(r, g)
