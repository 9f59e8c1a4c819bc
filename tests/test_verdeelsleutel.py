"""Verdeelsleutel (metrics.md section 9): the worked example by hand, and the counts."""

import numpy as np
import pandas as pd
import pytest

from _ds_factory import dec, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.errors import JeugdlibError
from jeugdlib.metrics import verdeelsleutel as vs


def test_worked_example_four_parts_of_25_percent():
    tel = pd.DataFrame({
        "gemeentecode": ["A", "B", "C", "D"],
        "jeugdigen": [4000, 3000, 2000, 1000],  # of 10000: .4 .3 .2 .1
        "toewijzingen": [50, 30, 10, 10],  # of 100:   .5 .3 .1 .1
        "declaratieregels": [600, 200, 100, 100],  # of 1000: .6 .2 .1 .1
    })
    v = vs.verdeel(tel, 1003, vs.ZUID_LIMBURG)
    # gemeente part: 1/4 each.
    # A = .25 x (.25 + .4 + .5 + .6) = .25 x 1.75 = .4375
    # B = .25 x (.25 + .3 + .3 + .2) = .25 x 1.05 = .2625
    # C = .25 x (.25 + .2 + .1 + .1) = .25 x 0.65 = .1625
    # D = .25 x (.25 + .1 + .1 + .1) = .25 x 0.55 = .1375   (sum 1)
    assert v["aandeel"].tolist() == pytest.approx([0.4375, 0.2625, 0.1625, 0.1375])
    assert v["aandeel_gemeente"].tolist() == pytest.approx([0.25] * 4)
    assert v["aandeel_jeugdigen"].tolist() == pytest.approx([0.4, 0.3, 0.2, 0.1])
    # x EUR 1003: 438.8125, 263.2875, 162.9875, 137.9125 -> floors 438 263 162 137 = 1000,
    # 3 euro left go to the largest fractions C (.9875), D (.9125), A (.8125); B (.2875) gets none.
    assert v["bedrag"].tolist() == [439, 263, 163, 138]
    assert v["bedrag"].sum() == 1003


def test_largest_remainder_float_noise_and_ties():
    # 100 computed as 99.99999999 must stay 100; the tie 50.5 / 50.5 goes to the first.
    assert vs.largest_remainder(np.array([99.99999999, 50.5, 50.5]), 201).tolist() == [100, 51, 50]


def test_weights_must_sum_to_one():
    tel = pd.DataFrame({"gemeentecode": ["A", "B"], "jeugdigen": [1, 1]})
    with pytest.raises(JeugdlibError):
        vs.verdeel(tel, 100, {"gemeente": 0.5, "jeugdigen": 0.4})
    with pytest.raises(JeugdlibError):
        vs.verdeel(tel, 100, {"gemeente": 0.5, "toewijzingen": 0.5})  # no such count


def test_configurable_parts():
    # Two parts, 60/40: per gemeente (1/2 each) and jeugdigen (3/4, 1/4).
    # A = .6 x .5 + .4 x .75 = .6; B = .6 x .5 + .4 x .25 = .4; x EUR 10 -> 6 and 4
    tel = pd.DataFrame({"gemeentecode": ["A", "B"], "jeugdigen": [300, 100]})
    v = vs.verdeel(tel, 10, {"gemeente": 0.6, "jeugdigen": 0.4})
    assert v["aandeel"].tolist() == pytest.approx([0.6, 0.4]) and v["bedrag"].tolist() == [6, 4]


def _cleaned(params):
    gem = [{"gemeentecode": "0889", "gemeentenaam": "Beesel", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
           {"gemeentecode": "0893", "gemeentenaam": "Bergen (L.)", "regio_code": "JZ37",
            "regio_naam": "Noord-Limburg"}]
    t = [
        # T1 overlaps 2023; its latest version withdraws it (RedenWijziging 13): still counts once
        tw(toewijzing_nr="T1", gemeentecode="0889", ingangsdatum="2023-02-01", einddatum="2023-05-31"),
        tw(toewijzing_nr="T1", gemeentecode="0889", ingangsdatum="2023-02-01", einddatum="2023-05-31",
           versie_ts="2023-06-01", reden_wijziging="13"),
        tw(toewijzing_nr="T2", gemeentecode="0889", ingangsdatum="2022-01-01", einddatum="2022-12-31"),  # before 2023
        tw(toewijzing_nr="T3", gemeentecode="0893", ingangsdatum="2022-06-01", einddatum=None),  # open: overlaps
        tw(toewijzing_nr="T4", gemeentecode="0893", ingangsdatum="2024-01-01", einddatum=None),  # after 2023
        tw(toewijzing_nr="T5", gemeentecode="0889", ingangsdatum="2023-12-31", einddatum="2024-03-01"),  # last day
    ]
    d = [dec(gemeentecode="0889", periode_begin="2023-01-01", periode_eind="2023-01-31"),
         dec(gemeentecode="0889", periode_begin="2023-12-01", periode_eind="2023-12-31"),
         dec(gemeentecode="0889", periode_begin="2023-12-01", periode_eind="2023-12-31", declaratie_nr="d2",
             volume_signed=-1, bedrag_cent_signed=-10000),  # the credit of the line before
         dec(gemeentecode="0889", periode_begin="2022-12-01", periode_eind="2022-12-31"),
         dec(gemeentecode="0893", periode_begin="2023-06-01", periode_eind="2023-06-30")]
    bev = [{"gemeentecode": "0889", "jaar": 2022, "jeugdigen": 1000},
           {"gemeentecode": "0889", "jaar": 2023, "jeugdigen": 1100},
           {"gemeentecode": "0889", "jaar": 2024, "jeugdigen": 1200},
           {"gemeentecode": "0893", "jaar": 2021, "jeugdigen": 500}]
    return clean(make_ds(t, d, gemeenten=gem, bevolking=bev), params)


def test_tellingen_year_before():
    c = _cleaned(Params(peildatum="2024-08-01"))
    assert len(c.toewijzingen_ingetrokken) == 1  # T1
    tel = vs.tellingen(c, 2024).set_index("gemeentecode")
    # toewijzingen overlapping 2023: 0889 T1, T5 = 2; 0893 T3 = 1
    assert tel["toewijzingen"].to_dict() == {"0889": 2, "0893": 1}
    # lines with periode_begin in 2023: 0889 three (debet and credit both count), 0893 one
    assert tel["declaratieregels"].to_dict() == {"0889": 3, "0893": 1}
    # jeugdigen of 2023 (0889: 1100); 0893 only has 2021 (500)
    assert tel["jeugdigen"].to_dict() == {"0889": 1100, "0893": 500}
    # the counts of one regio are what verdeel takes
    v = vs.verdeel(tel.reset_index(), 1000)
    assert v["bedrag"].sum() == 1000


def test_kpis_shares_per_gemeente():
    c = _cleaned(Params(peildatum="2024-08-01", start="2024-01-01"))
    k = vs.verdeelsleutel(c)
    w = dict(zip(k["gemeente"] + "|" + k["dimensie"], k["waarde"]))
    # 0889: gemeente 1/2, jeugdigen 1100/1600 = .6875, toewijzingen 2/3, regels 3/4
    # total .25 x (.5 + .6875 + .666667 + .75) = .25 x 2.604167 = .651042; 0893 the rest
    assert w["0889|deel=jeugdigen"] == pytest.approx(0.6875)
    assert w["0889|"] == pytest.approx(0.25 * (0.5 + 0.6875 + 2 / 3 + 0.75))
    assert w["0889|"] + w["0893|"] == pytest.approx(1.0)
    assert set(k["periode"]) == {"2024"} and set(k["regio"]) == {"Noord-Limburg"}
    assert k["n_clienten"].isna().all()


def test_part_without_data_left_out_and_only_per_jaar():
    # Without bevolking the jeugdigen part is left out and the other three weigh a third each.
    c = clean(make_ds([tw(toewijzing_nr="A", gemeentecode="0983", ingangsdatum="2023-03-01"),
                       tw(toewijzing_nr="B", gemeentecode="0984", ingangsdatum="2023-03-01"),
                       tw(toewijzing_nr="C", gemeentecode="0984", ingangsdatum="2023-04-01")],
                      [dec(gemeentecode="0983", periode_begin="2023-05-01", periode_eind="2023-05-31")]),
              Params(peildatum="2024-08-01", start="2024-01-01"))
    k = vs.verdeelsleutel(c)
    w = dict(zip(k["gemeente"] + "|" + k["dimensie"], k["waarde"]))
    assert not any(key.endswith("deel=jeugdigen") for key in w)
    # Noord-Limburg (0983, 0984): 0983 = (1/2 + 1/3 + 1/1) / 3; Zuid-Limburg's 0935 has no toewijzingen
    # and no lines: only its gemeente part (1/1)
    assert w["0983|"] == pytest.approx((0.5 + 1 / 3 + 1.0) / 3)
    assert w["0984|"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    assert w["0935|"] == 1.0 and "0935|deel=toewijzingen" not in w
    assert len(vs.verdeelsleutel(c.met_params(Params(peildatum="2024-08-01", per="kwartaal")))) == 0
