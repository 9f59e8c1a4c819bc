"""Report 7 Datakwaliteit: the tables its sections show, hand-worked (metrics.md 0.1, 0.2,
0.2b; data-contract 1.1, 2; reports.md report 7).

Gemeenten 0983 Venlo and 0984 Venray (Noord-Limburg); aanbieder 11111111 "Groot".
Peildatum 2024-08-01 unless stated. Amounts in the comments in euro.
"""

from __future__ import annotations

import pandas as pd
import pytest

from _ds_factory import dec, make_ds, tw
from jeugdlib import forecast, schema
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.rapport import kwaliteit
from jeugdlib.rapport.laden import Rapport

P = Params("2024-08-01", start="2023-01-01")


def _telling(c, tabel, regel):
    t = c.telling
    row = t[(t["tabel"] == tabel) & (t["regel"] == regel)]
    return int(row["voor"].iloc[0]), int(row["verwijderd"].iloc[0])


def _afw(decl, ref, codes, bedrag, antwoord="2024-03-01"):
    return {"agb": "11111111", "gemeentecode": "0983", "declaratie_nr": decl, "referentie_nr": ref,
            "retourcodes": codes, "bedrag_cent_signed": bedrag, "antwoorddatum": antwoord}


def _ds_afwijzingen():
    """D1: R1 100 (rejected 8001) and R2 200 (rejected 8001 and 0052).
    D2: R3 150 and R4 250, rejected whole (0001).
    D3: R5 800, rejected by an answer dated on the peildatum: not yet, stays.
    D4: R6 50 with periode_begin on the peildatum: out by periode_na_peildatum first.
    D5: R7 60, not rejected."""
    def d(nr, ref, cent, begin="2024-01-01", eind="2024-01-31"):
        return dec(declaratie_nr=nr, referentie_nr=ref, bedrag_cent_signed=cent, periode_begin=begin,
                   periode_eind=eind, productcode="45A48")
    lines = [d("D1", "R1", 10000), d("D1", "R2", 20000, "2024-02-01", "2024-02-29"),
             d("D2", "R3", 15000, "2024-03-01", "2024-03-31"), d("D2", "R4", 25000, "2024-04-01", "2024-04-30"),
             d("D3", "R5", 80000, "2024-05-01", "2024-05-31"), d("D4", "R6", 5000, "2024-08-01", "2024-08-31"),
             d("D5", "R7", 6000, "2024-06-01", "2024-06-30")]
    afw = [_afw("D1", "R1", "8001", 10000), _afw("D1", "R2", "8001,0052", 20000),
           _afw("D2", None, "0001", 40000), _afw("D3", "R5", "8001", 80000, antwoord="2024-08-01"),
           _afw("D4", "R6", "8001", 5000)]
    return make_ds([tw(toewijzing_nr="T1", productcode="45A48")], lines, afwijzingen=afw)


def test_afwijzingen_per_retourcode():
    """8001: R1 + R2 = 2 lines, 100 + 200 = 300; 0052: R2 = 1 line, 200; 0001: R3 + R4 =
    2 lines, 150 + 250 = 400. R5 (answer on the peildatum) and R6 (care after it) do not
    count. Distinct lines: R1..R4 = 4 lines, 700 EUR, as the cleaning's rule afgewezen."""
    c = clean(_ds_afwijzingen(), P)
    t = kwaliteit.afwijzingen_per_code(c)
    assert t.values.tolist() == [["0001", 2, 40000], ["8001", 2, 30000], ["0052", 1, 20000]]
    assert kwaliteit.afwijzingen_totaal(c) == (4, 70000)
    assert _telling(c, "declaraties", "afgewezen")[1] == 4
    # what is left: R5 800 + R7 60
    assert int(c.declaraties["bedrag_cent"].sum()) == 86000
    zin = kwaliteit.afwijzingen_zin(c)
    assert zin.startswith("4 declaratieregels (€ 700)")
    assert zin.endswith("regels per retourcode (de meeste eerst): 0001 (2), 8001 (2) en 0052 (1).")


def test_zonder_jw325_zijn_bedragen_ingediend():
    """No JW325 at all: nothing is rejected and the report says the figures are
    ingediende, not toegekende, bedragen."""
    c = clean(make_ds([tw(toewijzing_nr="T1")], [dec(bedrag_cent_signed=10000)]), P)
    assert not c.heeft_afwijzingen
    assert kwaliteit.afwijzingen_totaal(c) == (0, 0)
    assert len(kwaliteit.afwijzingen_per_code(c)) == 0
    zin = kwaliteit.afwijzingen_zin(c)
    assert "geen declaratie-antwoorden (JW325)" in zin and "ingediende bedragen, niet toegekende" in zin
    assert any("ingediende, geen toegekende" in x for x in kwaliteit.toelichting_regels(_rapport(c, make_ds())))


def test_toewijzing_voor_meer_clienten():
    """Venlo's toewijzing 10073 is declared for client A (100 in Jan, 100 in Feb) and
    client B (50): 2 clients, 3 posts, 250 EUR. Venray's 10073 (another toewijzing,
    OP275) has only client C: not listed. No client id in the table."""
    ds = make_ds([tw(toewijzing_nr="10073", client_id="KLANTAAA1"),
                  tw(toewijzing_nr="10073", gemeentecode="0984", client_id="KLANTCCC3")], [
        dec(toewijzing_nr="10073", client_id="KLANTAAA1", bedrag_cent_signed=10000),
        dec(toewijzing_nr="10073", client_id="KLANTAAA1", bedrag_cent_signed=10000, periode_begin="2023-02-01",
            periode_eind="2023-02-28"),
        dec(toewijzing_nr="10073", client_id="KLANTBBB2", bedrag_cent_signed=5000),
        dec(toewijzing_nr="10073", gemeentecode="0984", client_id="KLANTCCC3", bedrag_cent_signed=7000),
    ])
    c = clean(ds, P)
    m = kwaliteit.meerdere_clienten(c)
    assert list(m.columns) == ["gemeente", "toewijzingnummer", "aanbieder", "cliënten", "posten", "bedrag (€)"]
    assert m.values.tolist() == [["Venlo", "10073", "Groot", 2, 3, 250.0]]
    # the report table suppresses the client count (2 < 10) and shows no client id
    r = _rapport(c, ds)
    html = _html(kwaliteit.signalen, r)
    assert "Toewijzingen gedeclareerd voor meer dan één cliënt" in html
    assert "&lt;10" in html and "KLANT" not in html


def test_ingediend_na_peildatum():
    """June line declared 2024-09-15 (50) and July line declared on the peildatum (300)
    are left out; July line declared 2024-07-31 (100) and a line without declaratiedatum
    (20) stay; an August line (after the peildatum) is out by periode_na_peildatum, not
    here. Per care month: June 1 line 50, July 1 line 300; total 2 = the rule's count."""
    ds = make_ds([tw(toewijzing_nr="T1")], [
        dec(periode_begin="2024-07-01", periode_eind="2024-07-15", bedrag_cent_signed=10000,
            declaratiedatum="2024-07-31"),
        dec(periode_begin="2024-07-16", periode_eind="2024-07-31", bedrag_cent_signed=30000,
            declaratiedatum="2024-08-01"),
        dec(periode_begin="2024-06-01", periode_eind="2024-06-30", bedrag_cent_signed=5000,
            declaratiedatum="2024-09-15"),
        dec(periode_begin="2024-05-01", periode_eind="2024-05-31", bedrag_cent_signed=2000),
        dec(periode_begin="2024-08-01", periode_eind="2024-08-31", bedrag_cent_signed=9000,
            declaratiedatum="2024-09-01"),
    ])
    c = clean(ds, P)
    t = kwaliteit.ingediend_na_peildatum(c)
    assert t["maand"].tolist() == [pd.Timestamp("2024-06-01"), pd.Timestamp("2024-07-01")]
    assert t[["regels", "bedrag_cent"]].values.tolist() == [[1, 5000], [1, 30000]]
    assert _telling(c, "declaraties", "ingediend_na_peildatum")[1] == int(t["regels"].sum()) == 2
    assert kwaliteit.ontvangst_zin(c) == ("2 declaratieregels (€ 350) zijn gedagtekend op of na de peildatum "
                                          "(1 augustus 2024) en tellen daarom niet mee.")


def test_zonder_declaratiedatum_niet_gefilterd():
    c = clean(make_ds([tw(toewijzing_nr="T1")], [dec(bedrag_cent_signed=10000)]), P)
    assert not c.heeft_declaratiedatum
    assert len(kwaliteit.ingediend_na_peildatum(c)) == 0
    assert "niet gefilterd op ontvangst" in kwaliteit.ontvangst_zin(c)


def test_start_stop_correcties():
    """JW305: start 2023-01-01 (1), its deletion (3), corrected start 2023-01-15 (1):
    3 read, 1 deletion, 2 removed, 1 kept. JW307: one stop (1): kept."""
    base = {"toewijzing_nr": "T1", "gemeentecode": "0983", "agb": "11111111"}
    ss = [{**base, "bericht": "JW305", "begindatum": "2023-01-01", "status_aanlevering": "1"},
          {**base, "bericht": "JW305", "begindatum": "2023-01-01", "status_aanlevering": "3"},
          {**base, "bericht": "JW305", "begindatum": "2023-01-15", "status_aanlevering": "1"},
          {**base, "bericht": "JW307", "begindatum": "2023-01-15", "einddatum": "2023-06-30",
           "status_aanlevering": "1"}]
    c = clean(make_ds([tw(toewijzing_nr="T1")], [], start_stop=ss), P)
    t = kwaliteit.start_stop_correcties(c)
    assert t.values.tolist() == [["JW305", 3, 1, 2, 1], ["JW307", 1, 0, 0, 1]]
    assert _telling(c, "start_stop", "start_stop_verwijderd")[1] == int(t["verwijderd"].sum()) == 2


def test_ijw_release_per_record_and_overgeslagen():
    """Declarations of release 3.2 (2), 3.0 (1) and one without (an export): counted per
    release, the one without left out. Without any release: an empty table."""
    ds = make_ds([tw(toewijzing_nr="T1")], [
        dec(bedrag_cent_signed=100, ijw_release="3.2"),
        dec(bedrag_cent_signed=200, ijw_release="3.2", periode_begin="2023-02-01", periode_eind="2023-02-28"),
        dec(bedrag_cent_signed=300, ijw_release="3.0", periode_begin="2023-03-01", periode_eind="2023-03-31"),
        dec(bedrag_cent_signed=400, periode_begin="2023-04-01", periode_eind="2023-04-30"),
    ])
    c = clean(ds, P)
    assert kwaliteit.ijw_releases(c).values.tolist() == [["JW323", "3.0", 1], ["JW323", "3.2", 2]]
    leeg = clean(make_ds([tw(toewijzing_nr="T1")], [dec()]), P)
    assert len(kwaliteit.ijw_releases(leeg)) == 0

    ds.ingest_telling = schema.conform(pd.DataFrame({
        "invoer": ["JW301", "iWmo", "JW323", "JW305 (iJw 2.4)"], "gelezen": [10, 4, 20, 2],
        "behouden": [9, 0, 20, 0], "quarantaine": [1, 0, 0, 0], "overgeslagen": [0, 4, 0, 2]}), "ingest_telling")
    assert kwaliteit.overgeslagen(ds).values.tolist() == [["iWmo", 4], ["JW305 (iJw 2.4)", 2]]


FP = forecast.ForecastParams(volledigheid_maanden=2, volledigheid_venster=1)


def _ds_vertraging():
    """Care month May 2024 (the reference month with H = 2, one month window: peildatum
    month Aug minus 3): 100 declared 2024-05-20 (k = 0), 200 on 2024-06-10 (k = 1), 100
    on 2024-07-05 (k = 2). June: 80 declared so far; July: 40."""
    def d(begin, eind, cent, op):
        return dec(periode_begin=begin, periode_eind=eind, bedrag_cent_signed=cent, declaratiedatum=op)
    return make_ds([tw(toewijzing_nr="T1", ingangsdatum="2024-01-01")], [
        d("2024-05-01", "2024-05-10", 10000, "2024-05-20"), d("2024-05-11", "2024-05-20", 20000, "2024-06-10"),
        d("2024-05-21", "2024-05-31", 10000, "2024-07-05"), d("2024-06-01", "2024-06-30", 8000, "2024-06-15"),
        d("2024-07-01", "2024-07-31", 4000, "2024-07-20")])


def test_volledigheidscurve_en_recente_maanden():
    """Curve of May: k0 = 100/400 = 0,25, k1 = 300/400 = 0,75, k2 = 1. Only k = 2 reaches
    0,95, so a month is complete 2 months after its end: June (k = 1) and July (k = 0)
    are onvolledig, May (k = 2) is not. Expected eventual cost: June 80 / 0,75 = 106,67,
    July 40 / 0,25 = 160."""
    c = clean(_ds_vertraging(), P)
    curve = kwaliteit.volledigheidscurve(c, "Noord-Limburg", FP)
    assert curve["regio"].unique().tolist() == ["Noord-Limburg"]
    assert curve["k"].tolist() == [0, 1, 2]
    assert curve["volledigheid"].tolist() == pytest.approx([0.25, 0.75, 1.0])
    m = kwaliteit.recente_maanden(c, "Noord-Limburg", FP)
    assert m["maand"].tolist() == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01"), pd.Timestamp("2024-07-01")]
    assert m["k"].tolist() == [2, 1, 0]
    assert m["onvolledig"].tolist() == [False, True, True]
    assert m["gedeclareerd"].tolist() == pytest.approx([400.0, 80.0, 40.0])
    assert m["verwacht"].tolist() == pytest.approx([400.0, 80 / 0.75, 160.0])
    assert kwaliteit.vertraging_zin(c, "Noord-Limburg", FP) == (
        "2 maanden (vanaf juni 2024) zijn op de peildatum nog onvolledig: naar verwachting is minder dan 95% "
        "van hun uiteindelijke kosten gedeclareerd.")
    fig = kwaliteit.volledigheid_grafiek(curve, "Noord-Limburg", FP.volledig_drempel)
    ax = fig.axes[0]
    assert ax.get_title(loc="left").startswith("Deel van de kosten") and "(%)" in ax.get_ylabel()


def test_vaste_vertraging_zonder_declaratiedatum():
    """Without any declaratiedatum the lag cannot be measured: the 3 months before the
    peildatum's month (May, June, July 2024) are onvolledig by assumption; April is shown
    as complete; no curve."""
    ds = make_ds([tw(toewijzing_nr="T1")], [dec(periode_begin="2024-04-01", periode_eind="2024-04-30",
                                                 bedrag_cent_signed=12300)])
    c = clean(ds, P)
    assert len(kwaliteit.volledigheidscurve(c, "Noord-Limburg")) == 0
    m = kwaliteit.recente_maanden(c, "Noord-Limburg")
    assert [x.strftime("%Y-%m") for x in m["maand"]] == ["2024-04", "2024-05", "2024-06", "2024-07"]
    assert m["onvolledig"].tolist() == [False, True, True, True]
    assert m["gedeclareerd"].tolist() == pytest.approx([123.0, 0, 0, 0])
    zin = kwaliteit.vertraging_zin(c, "Noord-Limburg")
    assert "niet uit de gegevens te meten" in zin and "laatste 3 maanden" in zin and "mei 2024" in zin
    html = _html(kwaliteit.declaratievertraging, _rapport(c, ds))
    assert "vaste aanname" in html and "<img" not in html


def test_samenvatting_en_secties():
    """The whole report on the rejection dataset: every section runs, the Samenvatting
    is built from the numbers and holds the rejection sentence, and nothing shown
    carries a client id."""
    ds = _ds_afwijzingen()
    ds.declaraties["client_id"] = "KLANTXYZ9"
    ds.toewijzingen["client_id"] = "KLANTXYZ9"
    c = clean(ds, P)
    r = _rapport(c, ds)
    html = "".join(_html(f, r) for f in (kwaliteit.samenvatting, kwaliteit.inlezen, kwaliteit.berichten,
                                         kwaliteit.opschoning, kwaliteit.afwijzingen, kwaliteit.ontvangst,
                                         kwaliteit.start_stop, kwaliteit.signalen, kwaliteit.declaratievertraging))
    assert r.samenvatting[0] == kwaliteit.afwijzingen_zin(c)
    assert any("niet gefilterd op ontvangst" in z for z in r.samenvatting)
    assert r.kern["afgewezen_regels"] == 4 and r.kern["afgewezen_bedrag"] == 700.0
    assert "Afwijzingen (declaratie-antwoord JW325)" in html and "totaal (elke regel één keer)" in html
    assert "€ 700" in html
    assert "KLANTXYZ9" not in html


# --------------------------------------------------------------------------- helpers


def _rapport(c, ds) -> Rapport:
    gem = pd.DataFrame({"gemeentecode": ["0983", "0984"], "gemeentenaam": ["Venlo", "Venray"]})
    return Rapport(naam="datakwaliteit", regio="Noord-Limburg", params=c.params, data=None, ds=ds, cleaned=c,
                   gemeenten=gem, regios=["Noord-Limburg"])


def _html(section, r) -> str:
    """What a section displays, as one HTML string (figures as their title)."""
    shown = []

    def toon(*objs):
        for o in objs:
            if o is None:
                continue
            shown.append(f"<img alt='{o.axes[0].get_title(loc='left')}'>" if hasattr(o, "savefig") else o.data)

    mp = pytest.MonkeyPatch()
    mp.setattr(kwaliteit, "toon", toon)
    try:
        section(r)
    finally:
        mp.undo()
    return "".join(shown)

