"""Shared plumbing: periods, group levels, interval chains (hand-worked cases)."""

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


def test_stack_levels_three_levels():
    df = pd.DataFrame({"regio": ["A", "A", "B"], "gemeentecode": ["1", "2", "3"], "x": [1, 2, 3]})
    s = _common.stack_levels(df)
    assert len(s) == 9
    sums = s.groupby(["regio", "gemeente"])["x"].sum().to_dict()
    assert sums == {("A", "1"): 1, ("A", "2"): 2, ("B", "3"): 3, ("A", ""): 3, ("B", ""): 3,
                    ("Nederland", ""): 6}


def test_chain_ids_gap_31_joins_32_splits():
    # client a: [1 jan, 31 jan], next starts 3 mar = 31 days after 31 jan -> same chain;
    # [3 mar, 1 apr], next starts 3 may = 32 days after 1 apr -> new chain.
    # An interval inside a longer one joins via the running max end.
    df = pd.DataFrame({
        "c": ["a", "a", "a", "b", "b"],
        "s": pd.to_datetime(["2020-01-01", "2020-03-02", "2020-05-04", "2020-01-01", "2020-02-01"]),
        "e": pd.to_datetime(["2020-01-31", "2020-04-02", "2020-06-01", "2020-12-31", "2020-02-10"]),
    })
    ids = _common.chain_ids(df, ["c"], "s", "e", 31)
    assert ids.iloc[0] == ids.iloc[1] != ids.iloc[2]
    assert ids.iloc[3] == ids.iloc[4] and ids.iloc[3] not in (ids.iloc[0], ids.iloc[2])


def test_params_default_start():
    p = Params(peildatum="2024-08-01")
    assert str(p.start) == "2021-01-01" and p.per == "jaar"


def test_register_and_clear_caches():
    """Registered caches are emptied by clear_caches; column codes are recomputed
    with the same values afterwards."""
    import pandas as pd

    from jeugdlib.metrics import _common

    mine = _common.register_cache({"x": 1})
    assert _common.register_cache(mine) is mine  # registering twice is harmless
    df = pd.DataFrame({"a": pd.array(["p", None, "q", "p"], dtype="string[pyarrow]")})
    before = _common.column_codes(df, "a")
    assert _common._CODE_CACHE
    _common.clear_caches()
    assert mine == {} and _common._CODE_CACHE == {}
    after = _common.column_codes(df, "a")
    assert after[0].tolist() == before[0].tolist() == [0, -1, 1, 0]
    assert list(after[1]) == ["p", "q"]
