"""Shared plumbing: periods and the roll-up to gemeente, regio and Nederland (hand-worked cases)."""

import pandas as pd

from jeugdlib.config import Params
from jeugdlib.metrics import _common


def test_period_labels():
    d = pd.Series(pd.to_datetime(["2023-01-01", "2023-05-31", "2024-12-31"]))
    assert _common.period_label(d, "jaar").tolist() == ["2023", "2023", "2024"]
    assert _common.period_label(d, "kwartaal").tolist() == ["2023-Q1", "2023-Q2", "2024-Q4"]
    assert _common.period_label(d, "maand").tolist() == ["2023-01", "2023-05", "2024-12"]


def test_periods_voorlopig():
    p = _common.periods("2021-01-01", "2024-08-01", "jaar")
    assert p["periode"].tolist() == ["2021", "2022", "2023", "2024"]
    # 2024 ends 31-12-2024, on/after the peildatum -> voorlopig
    assert p["voorlopig"].tolist() == [False, False, False, True]
    q = _common.periods("2024-01-01", "2024-07-01", "kwartaal")
    # Q2 ends 30-06-2024 < peildatum 01-07-2024 -> complete
    assert q["periode"].tolist() == ["2024-Q1", "2024-Q2"] and not q["voorlopig"].any()


def test_rollup_counts_a_client_in_two_gemeenten_once_in_the_regio():
    """Grouping sets: client a in gemeenten 1 and 2 of regio A counts once in A and in
    Nederland; sums add up per level."""
    import duckdb

    con = duckdb.connect()
    con.register("t", pd.DataFrame({"regio": ["A", "A", "B"], "gemeentecode": ["1", "2", "3"],
                                    "periode": ["2023"] * 3, "client_id": ["a", "a", "b"], "x": [1, 2, 3]}))
    got = con.execute(_common.rollup("SELECT * FROM t", "count(DISTINCT client_id) AS n, sum(x) AS s")
                      ).fetchall()
    res = {(r[0], r[1]): (r[3], r[4]) for r in got}
    assert res == {("A", "1"): (1, 1), ("A", "2"): (1, 2), ("B", "3"): (1, 3), ("A", ""): (1, 3),
                   ("B", ""): (1, 3), ("Nederland", ""): (2, 6)}


def test_params_default_start():
    p = Params(peildatum="2024-08-01")
    assert str(p.start) == "2021-01-01" and p.per == "jaar"


def test_som_is_the_same_in_every_order():
    """A sum of doubles depends on the order of the terms (1e16 + 1 rounds back to 1e16):
    ``som`` sums them exactly, so DuckDB's order of summation (which varies between runs
    on more than one thread) does not change the result."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")  # the rows are summed in the order given
    rijen = {"oplopend": "(1, 1e16::DOUBLE), (2, 1.0::DOUBLE), (3, -1e16::DOUBLE)",
             "anders": "(1, 1e16::DOUBLE), (2, -1e16::DOUBLE), (3, 1.0::DOUBLE)"}
    gewoon, exact, gefilterd = {}, {}, {}
    for naam, waarden in rijen.items():
        bron = f"(SELECT * FROM (VALUES {waarden}) AS t(i, x) ORDER BY i)"
        gewoon[naam], exact[naam], gefilterd[naam] = con.execute(
            f"SELECT sum(x), {_common.som('x')}, {_common.som('x', 'x > 0')} FROM {bron}").fetchone()
    assert gewoon["oplopend"] != gewoon["anders"]  # the plain sum: 0.0 and 1.0
    assert exact == {"oplopend": 1.0, "anders": 1.0}
    assert gefilterd == {"oplopend": 1e16 + 1.0, "anders": 1e16 + 1.0}
