"""The plumbing that makes ``jeugdlib kpi`` fast at national scale, on hand-worked cases.

* :class:`jeugdlib.metrics._common.LevelGroups`: sums and distinct counts per
  gemeente, rolled up to regio and Nederland (a client in two gemeenten of one
  regio counts once for the regio);
* :func:`_common.client_codes` / :func:`_common.column_codes`;
* the pruned read, ``clean(..., declaratie_kolommen=...)`` and ``licht_maken`` of
  ``jeugdlib kpi`` give the same KPI table as the full tables;
* the forecast fitted in a worker process gives the same rows.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from _ds_factory import dec, make_ds, tw
from jeugdlib import dataset, kpi, schema
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common

P = Params("2024-08-01", start="2023-01-01")


def _lg(gemeente_codes, mask=None):
    # regio 0 = "A" holds gemeenten 0 (g1) and 1 (g2); regio 1 = "B" holds gemeente 2 (g3)
    g = np.asarray(gemeente_codes)
    r = np.where(g == 2, 1, np.where(g < 0, 0, 0))
    return _common.LevelGroups(r, np.array(["A", "B"], dtype=object), g, np.array(["g1", "g2", "g3"], dtype=object),
                               np.zeros(len(g), dtype=np.int64), 1, mask)


def test_level_groups_sums_and_distinct_clients():
    # rows: (gemeente, client, value): g1/c1/10, g1/c2/20, g2/c2/5, g3/c3/7
    lg = _lg([0, 0, 1, 2])
    f = lg.frame(som=lg.sum(lg.take([10, 20, 5, 7])), n=lg.nunique(lg.take([1, 2, 2, 3])), rijen=lg.sum())
    got = {(r.regio, r.gemeente): (r.som, r.n, r.rijen) for r in f.itertuples()}
    assert got == {
        ("A", "g1"): (30, 2, 2),  # 10 + 20; clients 1, 2
        ("A", "g2"): (5, 1, 1),
        ("B", "g3"): (7, 1, 1),
        ("A", ""): (35, 2, 3),  # 30 + 5; client 2 is in g1 and g2: counted once -> 2 clients
        ("B", ""): (7, 1, 1),
        ("Nederland", ""): (42, 3, 4),  # 35 + 7; clients 1, 2, 3
    }


def test_level_groups_missing_gemeente_mask_and_missing_client():
    # a row without gemeente (-1) counts for its regio and Nederland but has no gemeente row;
    # the masked-out last row takes no part; client -1 (missing) is not counted
    lg = _lg([0, -1, 0, 2], mask=np.array([True, True, True, False]))
    f = lg.frame(som=lg.sum(lg.take([1, 2, 4, 100])), n=lg.nunique(lg.take([5, 6, -1, 7])))
    got = {(r.regio, r.gemeente): (r.som, r.n) for r in f.itertuples()}
    assert got == {("A", "g1"): (5, 1),  # 1 + 4; client 5 (the other is missing)
                   ("A", ""): (7, 2),  # 1 + 2 + 4; clients 5, 6
                   ("Nederland", ""): (7, 2)}
    assert list(lg.frame(["regio"])["regio"]) == ["A"]


def test_client_codes_semantics():
    df = pd.DataFrame({"client_id": pd.array(["x", None, "", "x"], dtype=schema.S),
                       "client_nr": pd.array([7, -1, -1, 7], dtype=schema.I)})
    c = _common.client_codes(df)
    assert c[1] == -1 and c[2] >= 0 and c[0] == c[3] and c[2] not in (c[0],)  # missing; "" its own client
    plain = _common.client_codes(df[["client_id"]])  # without client_nr: factorised
    assert plain[1] == -1 and len({plain[0], plain[2]}) == 2 and plain[0] == plain[3]


def test_column_codes_cached_and_renewed():
    df = pd.DataFrame({"a": pd.array(["p", None, "q", "p"], dtype=schema.S)})
    c1 = _common.column_codes(df, "a")
    assert list(c1[0]) == [0, -1, 1, 0] and list(c1[1]) == ["p", "q"]
    c2 = _common.column_codes(df, "a")
    assert c2[1] is c1[1] and list(c2[0]) == list(c1[0]) and c2[0].dtype == np.int64  # cached, int64 copy
    c2[0][:] = 9  # callers may modify what they get
    assert list(_common.column_codes(df, "a")[0]) == [0, -1, 1, 0]
    df["a"] = pd.array(["q", "q", "p", None], dtype=schema.S)
    assert list(_common.column_codes(df, "a")[0]) == [0, 0, 1, -1]  # a new column: new codes


def test_clear_caches_can_keep_column_codes():
    df = pd.DataFrame({"a": pd.array(["p", None, "q", "p", ""], dtype=schema.S)})
    tmp = pd.DataFrame({"b": pd.array(["x", "y"], dtype=schema.S)})
    a, ua = _common.column_codes(df, "a")
    assert list(a) == [0, -1, 1, 0, 2] and list(ua) == ["p", "q", ""]  # as pd.factorize: "" a value
    _common.column_codes(tmp, "b")
    key_tmp = (id(tmp), "b")
    del tmp
    _common.clear_caches(codes=False)
    assert (id(df), "a") in _common._CODE_CACHE and key_tmp not in _common._CODE_CACHE  # a frame gone: dropped
    assert _common.column_codes(df, "a")[1] is ua  # kept: no new factorisation
    _common.clear_caches()
    assert (id(df), "a") not in _common._CODE_CACHE


def test_csv_tekst_same_bytes_as_pandas():
    df = pd.DataFrame({
        "kpi": pd.array(["a", "b,c", 'd"e', "f\ng", "", None], dtype=schema.S),
        "waarde": [0.1, 1e-05, 1e16, float("nan"), 123456789012345.0, -2.5],
        "vlag": ["true", "false", "true", "true", "false", "false"],
    })
    assert kpi.csv_tekst(df) == df.to_csv(index=False, lineterminator="\n")
    rng = np.random.default_rng(1)
    getallen = pd.DataFrame({"w": np.r_[[-0.0, 5e-324, 1.7976931348623157e308, float("inf"), 1e15, 0.1 + 0.2],
                                        rng.uniform(-1e9, 1e9, 500), rng.random(500) * 10.0 ** rng.integers(-30, 30, 500)],
                             "k": "x"})
    assert kpi.csv_tekst(getallen) == getallen.to_csv(index=False, lineterminator="\n")
    leeg = df.iloc[0:0]
    assert kpi.csv_tekst(leeg) == leeg.to_csv(index=False, lineterminator="\n")
    een = pd.DataFrame({"a": ["", "x"]})  # one column: a lone empty field is quoted
    assert kpi.csv_tekst(een) == een.to_csv(index=False, lineterminator="\n")


def test_rang_orders_as_the_strings():
    s = pd.Series(pd.array(["b", "a", "B", "", "é", "a", "10", "9"], dtype=schema.S))
    r = kpi._rang(s)
    assert list(np.argsort(r, kind="stable")) == list(np.argsort(s.to_numpy(dtype=object), kind="stable"))
    assert r[1] == r[5] and r[3] == 0


def _ds():
    # Venlo: 12 clients, 2 toewijzingen each (2023 and 2024), a declaration per month of 2023;
    # Maastricht: 11 clients, one toewijzing each, one credit and one debet per client.
    rows, lines = [], []
    for i in range(12):
        cl = f"v{i}"
        rows.append(tw(toewijzing_nr=f"V{i}a", client_id=cl, gemeentecode="0983", ingangsdatum="2023-01-01",
                       einddatum="2023-12-31"))
        rows.append(tw(toewijzing_nr=f"V{i}b", client_id=cl, gemeentecode="0983", ingangsdatum="2024-01-10",
                       einddatum=None))
        for m in range(1, 13):
            lines.append(dec(toewijzing_nr=f"V{i}a", client_id=cl, gemeentecode="0983",
                             periode_begin=f"2023-{m:02d}-01", periode_eind=f"2023-{m:02d}-28",
                             bedrag_cent_signed=1000 * (i + 1)))
    for i in range(11):
        cl = f"m{i}"
        rows.append(tw(toewijzing_nr=f"M{i}", client_id=cl, gemeentecode="0935", productcode="41L23",
                       ingangsdatum="2023-03-01", einddatum="2024-02-29"))
        for amount in (5000, -5000, 7000):
            lines.append(dec(toewijzing_nr=f"M{i}", client_id=cl, gemeentecode="0935", productcode="41L23",
                             periode_begin="2023-06-01", periode_eind="2023-06-30", bedrag_cent_signed=amount))
    return make_ds(rows, lines)


def test_kpi_command_tables_same_as_full(tmp_path):
    """Pruned read + declaratie_kolommen + licht_maken (what ``jeugdlib kpi`` does) give
    exactly the KPI table of the full cleaned tables."""
    dataset.save(_ds(), tmp_path / "ds")
    full = kpi.kpi_table(clean(dataset.load(tmp_path / "ds"), P), P, suppression=False)
    ds = kpi.lees_dataset(tmp_path / "ds")
    assert "bron" not in ds.declaraties.columns and "declaratie_nr" not in ds.declaraties.columns
    c = clean(ds, P, declaratie_kolommen=kpi.KPI_DECLARATIE_KOLOMMEN)
    kpi.licht_maken(c)
    assert "client_id" not in c.declaraties.columns
    light = kpi.kpi_table(c, P, suppression=False)
    assert len(full) > 100
    pd.testing.assert_frame_equal(light, full, check_exact=True)


def test_clean_of_dictionary_encoded_read_same_frames(tmp_path):
    """``kpi.lees_dataset`` reads some declaration columns dictionary-encoded: every
    frame, the telling and every signalen list of ``clean`` (all columns) are the
    same as from plain strings."""
    base = _ds()
    extra = make_ds([], [dec(toewijzing_nr="", client_id="m0", gemeentecode="0935", productcode="41L23",
                             periode_begin="2023-07-01", periode_eind="2023-07-31", bedrag_cent_signed=900),
                         dec(toewijzing_nr="ONBEKEND", client_id="x1", gemeentecode="0983", agb="99999999",
                             periode_begin="2023-08-01", periode_eind="2023-08-31", bedrag_cent_signed=-400)])
    base.declaraties = pd.concat([base.declaraties, extra.declaraties], ignore_index=True)
    dataset.save(base, tmp_path / "ds")
    ds = kpi.lees_dataset(tmp_path / "ds")
    assert any(str(ds.declaraties[c].dtype).startswith("dictionary") for c in kpi.LEES_WOORDENBOEK["declaraties"])
    plain = dataset.load(tmp_path / "ds")
    plain.declaraties = plain.declaraties[list(ds.declaraties.columns)]
    plain.toewijzingen = plain.toewijzingen[list(ds.toewijzingen.columns)]
    a, b = clean(ds, P), clean(plain, P)
    for f in ("toewijzingen", "declaraties", "start_stop", "verzoeken", "telling", "toewijzingen_ingetrokken"):
        pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f), check_exact=True)
    for k in b.signalen:
        pd.testing.assert_frame_equal(a.signalen[k], b.signalen[k], check_exact=True)
    assert len(a.signalen["zonder_toewijzing"]) >= 2 and str(a.declaraties["client_id"].dtype) == "string"


def test_clean_declaratie_kolommen_same_values():
    ds = _ds()
    a = clean(ds, P)
    b = clean(ds, P, declaratie_kolommen=["segment"])
    assert "client_id" not in b.declaraties.columns and "segment" in b.declaraties.columns
    for k in a.signalen:
        pd.testing.assert_frame_equal(a.signalen[k], b.signalen[k], check_exact=True)
    pd.testing.assert_frame_equal(a.telling, b.telling)
    cols = list(b.declaraties.columns)
    pd.testing.assert_frame_equal(a.declaraties[cols], b.declaraties[cols], check_exact=True)


@pytest.mark.slow
def test_forecast_in_worker_process_same_rows():
    """The forecast's model fits in a spawned worker (``kpi_table(..., pool=...)``)
    give the same rows as in-process (ETS fits are deterministic)."""
    from jeugdlib import forecast

    c = clean(_ds(), P)
    here = forecast.kpis(c, P)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = forecast.kpis_start(c, P, pool=pool)()
    assert len(here) > 0
    pd.testing.assert_frame_equal(there, here, check_exact=True)


@pytest.mark.skipif(not kpi._kan_forken(), reason="two processes need Linux (fork) and two cores")
def test_two_processes_same_table_as_one():
    """``kpi_table(..., processen=2)`` shares the modules with a forked process: the
    table is identical to the one-process table (also with suppression)."""
    c = clean(_ds(), P)
    one = kpi.kpi_table(c, P)
    two = kpi.kpi_table(c, P, processen=2)
    assert len(one) > 100 and set(one["kpi"]) == set(two["kpi"])
    pd.testing.assert_frame_equal(two, one, check_exact=True)


def _kind_module(monkeypatch, naam: str, in_kind, wacht: float) -> str:
    """A KPI module ``naam`` giving volume's rows in this process (after ``wacht``
    seconds, so the forked process claims the other bundle meanwhile) and calling
    ``in_kind(naam)`` instead when run in a forked process."""
    import os
    import sys
    import time
    import types

    from jeugdlib.metrics import volume

    ouder, echt = os.getpid(), volume.kpis
    mod = types.ModuleType(naam)

    def kpis(cleaned, params):
        if os.getpid() != ouder:
            in_kind(naam)
        time.sleep(wacht)
        return echt(cleaned, params)

    mod.kpis = kpis
    monkeypatch.setitem(sys.modules, naam, mod)
    return naam


def _twee_keer_volume(monkeypatch, c, a, b):
    """The two-process table of bundles ``a`` and ``b`` (both volume's rows) against
    volume's one-process table: every row twice, in the same order."""
    monkeypatch.setattr(kpi, "KPI_MODULES", [a, b])
    monkeypatch.setattr(kpi, "BUNDELS", [(a,), (b,)])
    two = kpi.kpi_table(c, P, processen=2)
    monkeypatch.setattr(kpi, "KPI_MODULES", ["jeugdlib.metrics.volume"])
    one = kpi.kpi_table(c, P)
    pd.testing.assert_frame_equal(two.drop_duplicates().reset_index(drop=True), one, check_exact=True)
    assert len(two) == 2 * len(one)


@pytest.mark.skipif(not kpi._kan_forken(), reason="two processes need Linux (fork) and two cores")
def test_two_processes_failure_in_child_is_recomputed_and_errors_raise(monkeypatch, tmp_path):
    """A bundle the forked process fails on is computed again here: a failure that
    only happens there (a different process id) leaves the table unchanged; a
    module that always fails raises its own error in the caller."""
    import sys
    import types

    def faalt(naam):
        (tmp_path / naam).touch()  # proof that the forked process got here
        raise MemoryError("alleen in het tweede proces")

    c = clean(_ds(), P)
    a = _kind_module(monkeypatch, "jeugdlib_test_grillig_a", faalt, 0.5)
    b = _kind_module(monkeypatch, "jeugdlib_test_grillig_b", faalt, 0.5)
    _twee_keer_volume(monkeypatch, c, a, b)
    assert (tmp_path / a).exists() or (tmp_path / b).exists()

    boom = types.ModuleType("jeugdlib_test_boom2")

    def kpis_boom(cleaned, params):
        raise RuntimeError("kapot")

    boom.kpis = kpis_boom
    monkeypatch.setitem(sys.modules, "jeugdlib_test_boom2", boom)
    monkeypatch.setattr(kpi, "KPI_MODULES", ["jeugdlib_test_boom2", "jeugdlib.metrics.kosten"])
    monkeypatch.setattr(kpi, "BUNDELS", [("jeugdlib_test_boom2",), ("jeugdlib.metrics.kosten",)])
    with pytest.raises(RuntimeError, match="kapot"):
        kpi.kpi_table(c, P, processen=2)


@pytest.mark.skipif(not kpi._kan_forken(), reason="two processes need Linux (fork) and two cores")
def test_two_processes_hanging_child_is_stopped(monkeypatch):
    """A forked process that hangs is stopped after the wait and its bundle is
    computed in the caller: same table, no hang."""
    import time

    def hangt(naam):
        time.sleep(3600)  # hangs in the forked process

    c = clean(_ds(), P)
    a = _kind_module(monkeypatch, "jeugdlib_test_hangt_a", hangt, 0.3)
    b = _kind_module(monkeypatch, "jeugdlib_test_hangt_b", hangt, 0.3)
    monkeypatch.setattr(kpi, "WACHT_MINIMAAL", 1.0)
    t0 = time.perf_counter()
    _twee_keer_volume(monkeypatch, c, a, b)
    assert time.perf_counter() - t0 < 60
