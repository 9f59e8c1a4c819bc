"""Privacy: elfproef, pseudonymisation, key handling, suppression (hand-worked cases)."""

import pandas as pd
import pytest

from jeugdlib import privacy, schema


def test_elfproef_hand_worked():
    # 999900006: 9*9+9*8+9*7+9*6+0*5+0*4+0*3+0*2+6*-1 = 81+72+63+54-6 = 264 = 24*11 -> valid
    # 123456789: 9+16+21+24+25+24+21+16-9 = 147 = 13*11+4 -> invalid
    # 111222333: 9+8+7+12+10+8+9+6-3 = 66 = 6*11 -> valid
    # 000000000: total 0 -> invalid (not 0)
    s = pd.Series(["999900006", "123456789", "111222333", "000000000", None, "12a456789", "99990006"])
    # "99990006" (8 digits) is padded to 099990006: 0+72+63+54+0+0+0+0-6 = 183 = 16*11+7 -> invalid
    assert privacy.elfproef(s).tolist() == [True, False, True, False, False, False, False]
    assert privacy.elfproef_one("999900006")


def test_pseudonymise_keyed_and_stable():
    s = pd.Series(["999900006", "111222333", "999900006", None])
    a = privacy.pseudonymise(s, b"k1")
    b = privacy.pseudonymise(s, b"k1")
    c = privacy.pseudonymise(s, b"k2")
    assert a.tolist() == b.tolist()
    assert a.iloc[0] == a.iloc[2] != a.iloc[1]
    assert a.iloc[0] != c.iloc[0]
    assert pd.isna(a.iloc[3])
    assert len(a.iloc[0]) == 64 and "999900006" not in a.iloc[0]
    assert a.dtype == pd.api.types.pandas_dtype(schema.S)


def test_key_file_created_once(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(tmp_path / "key"))
    k1 = privacy.load_key()
    assert "sleutel aangemaakt" in capsys.readouterr().err
    k2 = privacy.load_key()
    assert k1 == k2 and (tmp_path / "key").exists()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("n,suppressed", [(9, True), (10, False), (1, True), (0, False)])
def test_suppress_at_9_and_10(n, suppressed):
    kpis = pd.DataFrame({"kpi": ["clienten"], "regio": ["R"], "gemeente": [""], "periode": ["2023"],
                         "dimensie": [""], "waarde": [float(n)], "eenheid": ["aantal"],
                         "voorlopig": [False], "n_clienten": [n]})
    out = privacy.suppress(kpis, 10)
    assert list(out.columns) == list(schema.KPI_COLUMNS)
    assert bool(out["onderdrukt"].iloc[0]) is suppressed
    assert pd.isna(out["waarde"].iloc[0]) is suppressed
    off = privacy.suppress(kpis, 10, enabled=False)
    assert off["waarde"].iloc[0] == n and not off["onderdrukt"].iloc[0]
