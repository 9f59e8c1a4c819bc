"""Round trip: records written to XML by the project's writer (jeugdlib.ijw.writer, the
path the demo uses) and read back by ingest are equal, field by field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdlib import ingest, privacy
from jeugdlib.ijw import writer

# BSNs that pass the elfproef (9*9+...: checked by privacy.elfproef in the test itself)
BSNS = ["999900006", "999900018", "999900031", "999900043"]


def _cid(bsn: pd.Series) -> list[str]:
    return privacy.pseudonymise(bsn.astype(str), privacy.load_key()).tolist()


def _frames(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 12
    msg = np.repeat(np.arange(4), 3)  # 4 messages of 3 records
    bsn = np.array(BSNS)[msg]
    common = dict(gemeentecode=np.array(["0983", "0935", "0505", "0917"])[msg],
                  agb=np.array(["12345678", "87654321", "11112222", "33334444"])[msg],
                  dagtekening=pd.Timestamp("2024-03-01"), bsn=bsn, geboortedatum=pd.Timestamp("2010-05-17"),
                  geslacht=np.array(["1", "2", "0", "1"])[msg])
    ing = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    f301 = pd.DataFrame(dict(common, bericht=msg, identificatie=[f"T301{m}" for m in msg],
                             toewijzing_nr=np.arange(1000, 1000 + n),
                             productcategorie=np.where(np.arange(n) % 2, "45", "43"),
                             productcode=np.where(np.arange(n) % 4 == 3, None, "45A53"),
                             toewijzingsdatum=ing - pd.Timedelta(days=3), toewijzingstijd="08:15:00",
                             ingangsdatum=ing,
                             einddatum=pd.Series(ing + pd.Timedelta(days=90)).where(np.arange(n) % 3 != 0),
                             reden_wijziging=np.where(np.arange(n) % 5 == 0, "14", None),
                             volume=rng.integers(1, 40, n), eenheid=np.where(np.arange(n) % 2, "04", "01"),
                             frequentie=np.where(np.arange(n) % 2, "2", "6")))
    f301.loc[5, ["volume", "eenheid", "frequentie"]] = None  # budget-only
    f301["budget_cent"] = pd.array([None] * 5 + [150000] + [None] * 6, dtype="Int64")
    f305 = pd.DataFrame(dict(common, bericht=msg, identificatie=[f"T305{m}" for m in msg],
                             toewijzing_nr=np.arange(1000, 1000 + n), productcategorie="45", productcode="45A53",
                             ingangsdatum=ing, begindatum=ing + pd.Timedelta(days=2)))
    f307 = f305.assign(identificatie=[f"T307{m}" for m in msg], reden_beeindiging="31",
                       einddatum=ing + pd.Timedelta(days=60))
    f315 = pd.DataFrame(dict(common, bericht=msg, identificatie=[f"T315{m}" for m in msg],
                             productcategorie="45", productcode="45A53", ingangsdatum=ing,
                             volume=5, eenheid="04", frequentie="2",
                             verwijzer_type=np.array(["01", "02", "04", "06"])[np.arange(n) % 4]))
    dc = np.where(np.arange(n) % 4 == 1, "C", "D")
    pb = pd.to_datetime("2024-02-01") - pd.to_timedelta(np.arange(n) % 2 * 31, unit="D")
    pb = pb.to_period("M").to_timestamp()
    f323 = pd.DataFrame(dict(bericht=np.arange(n) // 6, identificatie=[f"T323{m}" for m in np.arange(n) // 6],
                             gemeentecode="0983", agb="12345678", dagtekening=pd.Timestamp("2024-03-05"),
                             declaratie_nr=[f"D{m}" for m in np.arange(n) // 6],
                             declaratie_begin=pd.Timestamp("2024-02-01"), declaratie_eind=pd.Timestamp("2024-02-29"),
                             bsn=np.array(BSNS)[np.arange(n) % 3], referentie_nr=[f"R{i}" for i in range(n)],
                             vorig_referentie_nr=np.where(dc == "C", "R0", None),
                             toewijzing_nr=np.arange(1000, 1000 + n), productcategorie="45", productcode="45A53",
                             periode_begin=pb, periode_eind=pb + pd.offsets.MonthEnd(0),
                             volume=rng.integers(0, 20, n), eenheid="04",
                             tarief_cent=pd.array(np.where(np.arange(n) % 5 == 0, None, 9500), dtype="Int64"),
                             bedrag_cent=rng.integers(0, 500000, n), debet_credit=dc))
    return {"JW301": f301, "JW305": f305, "JW307": f307, "JW315": f315, "JW323": f323}


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory):
    root = tmp_path_factory.mktemp("rt")
    (root / "referentie").mkdir()
    (root / "referentie" / "producten.csv").write_text("productcode,financieringsvorm\n45A53,inspanning\n")
    (root / "referentie" / "aanbieders.csv").write_text("agb\n12345678\n")
    frames = _frames()
    for b, df in frames.items():
        items = writer.render(b, df)
        writer.write_messages(root / "berichten", [(f"{b}/{k}.xml", data) for k, data in items])
    res = ingest.ingest(root, root.parent / "rt_out", quiet=True, workers=1)
    return frames, res


def _ts(s) -> list:
    return [pd.Timestamp(x) if pd.notna(x) else None for x in s]


def _opt(s) -> list:
    return [None if pd.isna(x) else str(x) for x in s]


def test_everything_kept(roundtrip):
    frames, res = roundtrip
    assert len(res.quarantaine) == 0, res.meldingen(5)
    assert all(privacy.elfproef(pd.Series(BSNS)))


def test_jw301_roundtrip(roundtrip):
    frames, res = roundtrip
    f, t = frames["JW301"], res.dataset.toewijzingen
    assert t["toewijzing_nr"].tolist() == f["toewijzing_nr"].astype(str).tolist()
    assert _ts(t["versie_ts"]) == _ts(f["toewijzingsdatum"] + pd.Timedelta(hours=8, minutes=15))
    assert t["gemeentecode"].tolist() == f["gemeentecode"].tolist()
    assert t["agb"].tolist() == f["agb"].tolist()
    assert t["client_id"].tolist() == _cid(f["bsn"])
    assert _ts(t["geboortedatum"]) == _ts(f["geboortedatum"])
    assert t["geslacht"].tolist() == f["geslacht"].tolist()
    assert t["productcategorie"].tolist() == f["productcategorie"].tolist()
    assert _opt(t["productcode"]) == _opt(f["productcode"])
    assert _ts(t["ingangsdatum"]) == _ts(f["ingangsdatum"])
    assert _ts(t["einddatum"]) == _ts(f["einddatum"])
    assert _opt(t["reden_wijziging"]) == _opt(f["reden_wijziging"])
    assert _opt(t["volume"]) == _opt(f["volume"].astype("Int64"))
    assert _opt(t["eenheid"]) == _opt(f["eenheid"])
    assert _opt(t["frequentie"]) == _opt(f["frequentie"])
    assert _opt(t["budget_cent"]) == _opt(f["budget_cent"])


@pytest.mark.parametrize("bericht", ["JW305", "JW307"])
def test_start_stop_roundtrip(roundtrip, bericht):
    frames, res = roundtrip
    f = frames[bericht]
    s = res.dataset.start_stop
    s = s[s["bericht"] == bericht]
    assert s["toewijzing_nr"].tolist() == f["toewijzing_nr"].astype(str).tolist()
    assert s["client_id"].tolist() == _cid(f["bsn"])
    assert s["gemeentecode"].tolist() == f["gemeentecode"].tolist() and s["agb"].tolist() == f["agb"].tolist()
    assert s["productcode"].tolist() == f["productcode"].tolist()
    assert _ts(s["begindatum"]) == _ts(f["begindatum"])
    if bericht == "JW307":
        assert _ts(s["einddatum"]) == _ts(f["einddatum"])
        assert s["reden_beeindiging"].tolist() == f["reden_beeindiging"].tolist()
    else:
        assert s["einddatum"].isna().all()


def test_jw315_roundtrip(roundtrip):
    frames, res = roundtrip
    f, v = frames["JW315"], res.dataset.verzoeken
    assert v["verwijzer_type"].tolist() == f["verwijzer_type"].tolist()
    assert v["client_id"].tolist() == _cid(f["bsn"])
    assert _ts(v["ingangsdatum"]) == _ts(f["ingangsdatum"])


def test_jw323_roundtrip(roundtrip):
    frames, res = roundtrip
    f, d = frames["JW323"], res.dataset.declaraties
    # the writer groups Prestaties by client within a message: compare by referentie_nr
    d = d.set_index("referentie_nr").loc[f["referentie_nr"]].reset_index()
    sign = np.where(f["debet_credit"] == "C", -1, 1)
    assert d["declaratie_nr"].tolist() == f["declaratie_nr"].tolist()
    assert _opt(d["vorig_referentie_nr"]) == _opt(f["vorig_referentie_nr"])
    assert d["toewijzing_nr"].tolist() == f["toewijzing_nr"].astype(str).tolist()
    assert d["client_id"].tolist() == _cid(f["bsn"])
    assert _ts(d["periode_begin"]) == _ts(f["periode_begin"]) and _ts(d["periode_eind"]) == _ts(f["periode_eind"])
    assert d["volume_signed"].tolist() == (f["volume"] * sign).tolist()
    assert d["bedrag_cent_signed"].tolist() == (f["bedrag_cent"] * sign).tolist()
    assert _opt(d["tarief_cent"]) == _opt(f["tarief_cent"])
    assert (d["gemeentecode"] == "0983").all() and (d["agb"] == "12345678").all()
