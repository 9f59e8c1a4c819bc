"""Verlenging and recidief (metrics.md section 4): hand-worked boundary cases, through clean()."""

import pytest

from _ds_factory import GEMEENTEN, make_ds, tw
from jeugdlib import kpi
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import verlenging as vl

PEIL = "2024-01-01"

GEM = GEMEENTEN + [{"gemeentecode": "0889", "gemeentenaam": "Beesel", "regio_code": "JZ37",
                    "regio_naam": "Noord-Limburg"}]


def _product(code, productgroep, financieringsvorm):
    return {"productcode": code, "productcategorie": "45", "omschrijving": code, "segment": "4 - Ambulant",
            "productgroep": productgroep, "financieringsvorm": financieringsvorm, "zwaarte": None,
            "variant": None, "norm_uren": None, "norm_maanden": None, "tarief_cent": 10_000,
            "trajectprijs_cent": None, "geldig_vanaf": "2020-01-01", "geldig_tot": None}


#: productgroep G (inspanning and traject) and H.
PROD = [_product("PG", "G", "inspanning"), _product("PH", "H", "inspanning"), _product("PT", "G", "traject")]


def cleaned(rows, params):
    t = [tw(**{"gemeentecode": "0889", "productcode": "PG", **r}) for r in rows]
    return clean(make_ds(t, [], producten=PROD, gemeenten=GEM), params)


def status(c):
    return vl.verlenging_status(c).set_index("toewijzing_nr")


def test_status_boundaries_31_32_183_184():
    # Every A ends 31 mar 2022. 31 mar + 31 days = 1 may; + 32 = 2 may;
    # + 183 = 30 sep (apr 30, may 31, jun 30, jul 31, aug 31, sep 30 = 183); + 184 = 1 oct.
    c = cleaned([
        dict(toewijzing_nr="A1", client_id="c1", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B1", client_id="c1", ingangsdatum="2022-05-01", einddatum="2022-06-30"),  # day 31
        dict(toewijzing_nr="A2", client_id="c2", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B2", client_id="c2", ingangsdatum="2022-05-02", einddatum="2022-06-30"),  # day 32
        dict(toewijzing_nr="A3", client_id="c3", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B3", client_id="c3", ingangsdatum="2022-09-30", einddatum="2022-10-31"),  # day 183
        dict(toewijzing_nr="A4", client_id="c4", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B4", client_id="c4", ingangsdatum="2022-10-01", einddatum="2022-10-31"),  # day 184
        # B inside A (later start, earlier end): not a verlenging
        dict(toewijzing_nr="A5", client_id="c5", ingangsdatum="2022-01-01", einddatum="2022-06-30"),
        dict(toewijzing_nr="B5", client_id="c5", ingangsdatum="2022-02-01", einddatum="2022-03-31"),
        # another productgroep does not count
        dict(toewijzing_nr="C5", client_id="c5", productcode="PH", ingangsdatum="2022-07-10",
             einddatum="2022-12-31"),
        # open B counts as ending later; B overlapping A (starts during A) too
        dict(toewijzing_nr="A6", client_id="c6", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B6", client_id="c6", ingangsdatum="2022-03-01"),
    ], Params(peildatum=PEIL))
    s = status(c)
    assert s.loc["A1", "verlengd"] and not s.loc["A1", "recidief"]
    assert not s.loc["A2", "verlengd"] and s.loc["A2", "recidief"]
    assert not s.loc["A3", "verlengd"] and s.loc["A3", "recidief"]
    assert not s.loc["A4", "verlengd"] and not s.loc["A4", "recidief"]
    assert not s.loc["A5", "verlengd"] and not s.loc["A5", "recidief"]
    assert s.loc["A6", "verlengd"]
    # the open toewijzing has not ended: counted for neither
    assert not s.loc["B6", "telt_verlenging"] and not s.loc["B6", "telt_recidief"]
    assert s[["telt_verlenging", "telt_recidief"]].drop(index="B6").all().all()


def test_censoring_near_peildatum():
    # Peildatum 1 jan 2024.
    # verlenging counted when einddatum + 31 < peildatum: 30 nov 2023 + 31 = 31 dec 2023 (yes),
    # 1 dec 2023 + 31 = 1 jan 2024 (no).
    # recidief counted when einddatum + 183 < peildatum: 1 jul 2023 + 183 = 31 dec 2023 (yes),
    # 2 jul 2023 + 183 = 1 jan 2024 (no).
    c = cleaned([
        dict(toewijzing_nr="V1", client_id="a", ingangsdatum="2023-01-01", einddatum="2023-11-30"),
        dict(toewijzing_nr="V2", client_id="b", ingangsdatum="2023-01-01", einddatum="2023-12-01"),
        dict(toewijzing_nr="R1", client_id="c", ingangsdatum="2023-01-01", einddatum="2023-07-01"),
        dict(toewijzing_nr="R2", client_id="d", ingangsdatum="2023-01-01", einddatum="2023-07-02"),
    ], Params(peildatum=PEIL))
    s = status(c)
    assert s["telt_verlenging"].to_dict() == {"V1": True, "V2": False, "R1": True, "R2": True}
    assert s["telt_recidief"].to_dict() == {"V1": False, "V2": False, "R1": True, "R2": False}


def test_kpis_total_and_financieringsvorm():
    c = cleaned([
        dict(toewijzing_nr="A1", client_id="c1", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B1", client_id="c1", ingangsdatum="2022-05-01"),  # verlenging of A1
        dict(toewijzing_nr="A2", client_id="c2", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="B2", client_id="c2", ingangsdatum="2022-05-02"),  # recidief of A2
        dict(toewijzing_nr="A3", client_id="c3", productcode="PT", ingangsdatum="2022-01-01",
             einddatum="2022-03-31"),  # neither
        dict(toewijzing_nr="A4", client_id="c4", ingangsdatum="2023-11-01", einddatum="2023-12-01"),  # censored
    ], Params(peildatum=PEIL, start="2022-01-01"))
    k = kpi.kpi_rows(c, ["verlenging", "recidief"])
    r = k[(k["regio"] == "Noord-Limburg") & (k["gemeente"] == "")]
    w = dict(zip(r["kpi"] + "|" + r["periode"] + "|" + r["dimensie"], r["waarde"]))
    # 2022: counted A1, A2, A3; verlengd A1 -> 1/3; recidief A2 -> 1/3
    assert w["verlenging|2022|"] == pytest.approx(1 / 3)
    assert w["recidief|2022|"] == pytest.approx(1 / 3)
    # inspanning: A1, A2 -> 1/2 each; traject: A3 -> 0
    assert w["verlenging|2022|financieringsvorm=inspanning"] == pytest.approx(0.5)
    assert w["recidief|2022|financieringsvorm=inspanning"] == pytest.approx(0.5)
    assert w["verlenging|2022|financieringsvorm=traject"] == 0.0
    # 2023: A4 is censored for both -> no row
    assert not any(key.split("|")[1] == "2023" for key in w)
    assert r.loc[(r["kpi"] == "verlenging") & (r["dimensie"] == ""), "n_clienten"].tolist() == [3]
