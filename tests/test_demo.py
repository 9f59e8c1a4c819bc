"""The demo generator: real iJw XML, deterministic bytes, and a manifest of the dirt that
ingest and cleaning find exactly.

Uses the committed fixture ``tests/fixtures/mini`` (two regions, small; regenerate
with ``python -m jeugdlib.demo --mini``) and tiny freshly generated datasets.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from jeugdlib import cli, config, dataset, demo, privacy
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.errors import JeugdlibError

MINI = config.FIXTURE_DIR / "mini"
KINDS = ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")


def _messages(root: Path):
    """(path, kind, bytes) of every message, loose or in a zip archive (``a.zip!member``)."""
    for p in sorted((root / "berichten").rglob("*")):
        if p.suffix == ".xml":
            yield str(p.relative_to(root)), p.parent.parent.name, p.read_bytes()
        elif p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                for name in sorted(zf.namelist()):
                    yield f"{p.relative_to(root)}!{name}", Path(name).parent.parent.name, zf.read(name)


def _as_32(data: bytes) -> bytes:
    """A 3.0/3.1 message rewritten to the 3.2 namespace and BerichtSubversie (the elements
    the project writes sit at the same paths): validated against the official 3.2 XSDs."""
    for ns in (b"3_0", b"3_1"):
        if b"/ijw/" + ns + b"/" in data[:400]:
            data = data.replace(b"/ijw/" + ns + b"/", b"/ijw/3_2/")
            data = data.replace(b"BerichtSubversie>" + ns[-1:] + b"<", b"BerichtSubversie>2<", 1)
    return data


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _one_region(code="JZ42"):
    g = config.demo_gemeenten()
    return g[g["regio_code"] == code]


@pytest.fixture(scope="module")
def manifest():
    return json.loads((MINI / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mini_processed(tmp_path_factory):
    from jeugdlib import ingest

    out = tmp_path_factory.mktemp("mini_processed")
    ingest.ingest(MINI, out, quiet=True, workers=1)
    return dataset.load(out)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    demo.write_demo(a, scale=0.01, seed=11, gemeenten=_one_region())  # JZ42: zipped per month
    demo.write_demo(b, scale=0.01, seed=11, gemeenten=_one_region())
    demo.write_demo(c, scale=0.01, seed=12, gemeenten=_one_region())
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert len(da) > 50 and sum(k.endswith(".zip") for k in da) > 40
    assert da == db
    assert da != dc


def test_regions_written_at_once_give_the_same_bytes(tmp_path):
    """Regions are written by a pool of processes; one process writes the same bytes."""
    a, b = tmp_path / "a", tmp_path / "b"
    ma = demo.write_demo(a, scale=0.003, seed=5, workers=1)
    mb = demo.write_demo(b, scale=0.003, seed=5, workers=2)
    assert len(ma["regios"]) == 4 and ma["zip"]["archieven"] > 0
    assert ma == mb
    assert _digest(a) == _digest(b)


def test_mini_fixture_regenerates_identically(tmp_path):
    demo.write_mini(tmp_path / "mini")
    assert _digest(tmp_path / "mini") == _digest(MINI)


def test_layout_and_reference_tables(manifest):
    kinds = {kind for _p, kind, _b in _messages(MINI)}
    assert kinds == set(KINDS)
    for name in ("producten", "aanbieders", "gemeenten", "plekken", "budgetplafonds", "bevolking"):
        assert (MINI / "referentie" / f"{name}.csv").exists(), name
    prod = pd.read_csv(MINI / "referentie/producten.csv", dtype=str, keep_default_na=False)
    # financing forms and variants the metrics need are all there
    assert set(prod["financieringsvorm"]) == {"inspanning", "traject", "plek", "taak"}
    assert {"maatwerk", "meerwerk"} <= set(prod["variant"])
    assert (prod["productgroep"] == "").any()  # a product that is its own group
    assert demo.UNKNOWN_PRODUCT not in set(prod["productcode"])
    # one row per code and year, 2023 indexed 4,74% on 2022
    g = prod[prod["productcode"] == "45A53"].set_index("geldig_vanaf")["trajectprijs"].astype(float)
    assert g["2023-01-01"] / g["2022-01-01"] == pytest.approx(1.0474, abs=2e-4)
    aanb = pd.read_csv(MINI / "referentie/aanbieders.csv", dtype=str, keep_default_na=False)
    assert set(aanb["type"]) == {"micro", "regulier"}
    assert ((aanb["gecontracteerd_vanaf"] == "") & (aanb["gecontracteerd_tot"] == "")).any()  # NGA
    assert (aanb["gecontracteerd_tot"] == "2022-12-31").any() or (aanb["gecontracteerd_vanaf"] == "2021-01-01").any()
    unknown = manifest["vuil"]["onbekende_agb"]["agb"]
    assert unknown and not set(unknown) & set(aanb["agb"])
    plek = pd.read_csv(MINI / "referentie/plekken.csv", dtype=str)
    assert set(plek["jaar"]) <= {"2019", "2020", "2021"} and len(plek) > 0
    assert set(plek["productcode"]) <= set(demo.PLEK_PRODUCTS)


@pytest.mark.shared
def test_sample_of_every_kind_validates_against_xsd(ijw_xsd_dir):
    msgs = list(_messages(MINI))
    releases = set()
    for kind in KINDS:
        schema = etree.XMLSchema(etree.parse(str(ijw_xsd_dir / f"{kind}.xsd")))
        mine = [(p, b) for p, k, b in msgs if k == kind]
        sample = mine[:15] + mine[15::max(1, len(mine) // 25)]  # deterministic
        sample += [m for m in mine if ".zip!" in m[0]][:10]
        assert len(sample) >= 10, kind
        for p, b in sample:
            releases.add(b[b.index(b"/ijw/") + 5: b.index(b"/ijw/") + 8])
            doc = etree.fromstring(_as_32(b))
            assert schema.validate(doc), f"{p}: {schema.error_log.last_error}"
    assert releases == {b"3_0", b"3_1", b"3_2"}


def test_bsns_pass_elfproef_except_the_planted_ones(manifest):
    bsn, n_prod = [], []
    for _p, kind, b in _messages(MINI):
        if kind != "JW301":
            continue
        doc = etree.fromstring(b)
        bsn.append(doc.findtext(".//{*}Client/{*}Bsn"))
        n_prod.append(len(doc.findall(".//{*}ToegewezenProduct")))
    ok = privacy.elfproef(pd.Series(bsn)).to_numpy()
    # products in messages with an invalid BSN = the manifest's count for JW301
    assert int(np.asarray(n_prod)[~ok].sum()) == manifest["vuil"]["bsn_ongeldig"]["records"]["JW301"] > 0
    assert ok.mean() > 0.95


def test_ingest_quarantines_exactly_the_manifest(manifest, mini_processed):
    q = mini_processed.quarantaine
    counts = q.groupby(["invoer", "regel"]).size()
    bad = manifest["vuil"]["bsn_ongeldig"]["records"]
    dup = manifest["vuil"]["dubbele_bestanden"]
    for kind in KINDS:
        assert counts.get((kind, "bsn_elfproef"), 0) == bad.get(kind, 0), kind
    assert counts.get(("JW301", "dubbel_bericht"), 0) == dup["JW301_records"]
    assert counts.get(("JW323", "dubbel_bericht"), 0) == dup["JW323_records"]
    # nothing else is quarantined from the messages
    other = set(counts.index) - {(k, r) for k in KINDS for r in ("bsn_elfproef", "dubbel_bericht")}
    assert not [o for o in other if o[0] in KINDS]
    tel = mini_processed.ingest_telling
    for kind in KINDS:
        assert tel.loc[tel["invoer"] == kind, "gelezen"].sum() == manifest["records"][kind]


def test_clean_removes_exactly_the_manifest(manifest, mini_processed):
    # peildatum after the extract date: no cut-off, only the planted dirt is removed
    c = clean(mini_processed, Params(peildatum="2030-01-01"))
    tel = c.telling.set_index(["tabel", "regel"])["verwijderd"]
    exp = manifest["verwacht_na_opschonen"]
    for regel in ("oudere_versie", "reden_wijziging_13", "einde_voor_ingang", "leeftijd"):
        assert tel[("toewijzingen", regel)] == exp["toewijzingen"][regel], regel
    for regel in ("afgewezen", "saldering", "netto_nul_creditering", "netto_nul_bedrag", "leeftijd"):
        assert tel[("declaraties", regel)] == exp["declaraties"][regel], regel
    assert tel[("start_stop", "start_stop_verwijderd")] == exp["start_stop"]["start_stop_verwijderd"]
    assert tel[("toewijzingen", "ingang_na_peildatum")] == 0
    assert len(c.toewijzingen) == exp["toewijzingen"]["toewijzingen"] - sum(
        exp["toewijzingen"][r] for r in ("reden_wijziging_13", "einde_voor_ingang", "leeftijd"))
    assert int(c.declaraties["bedrag_cent"].sum()) == exp["declaraties"]["bedrag_cent_na_opschonen"]
    v = manifest["vuil"]
    assert int(c.declaraties["credit_zonder_debet"].sum()) == v["credit_zonder_debet"]
    onb = c.declaraties[~c.declaraties["toewijzing_bekend"].astype(bool)]
    assert len(onb) == v["onbekende_toewijzing"]["regels"]
    assert int(onb["bedrag_cent"].sum()) == v["onbekende_toewijzing"]["bedrag_cent"]
    assert (~c.toewijzingen["product_bekend"].astype(bool)).sum() == v["onbekende_producten"]["toewijzingen"]
    assert (~c.toewijzingen["aanbieder_bekend"].astype(bool)).sum() == v["onbekende_agb"]["toewijzingen"]


def test_ingest_finds_the_archive_dirt_of_issue_13(manifest, mini_processed):
    """ToewijzingNummers per gemeente, JW325 rejections, receipt dates, start/stop corrections,
    releases and zipped deliveries: exactly the manifest's counts."""
    ds, v = mini_processed, manifest["vuil"]
    # numbers in more than one gemeente: the same number, other toewijzingen
    # (the manifest counts per region and sums; numbers collide across regions too)
    regio = {g: r["regio_code"] for r in manifest["regios"] for g in r["gemeenten"]}
    nr = ds.toewijzingen[["toewijzing_nr", "gemeentecode"]].drop_duplicates()
    nr = nr.assign(regio=nr["gemeentecode"].map(regio))
    per = nr.groupby(["regio", "toewijzing_nr"]).size()
    shared = per[per > 1]
    g = v["toewijzingnummers_per_gemeente"]
    assert len(shared) == g["nummers_in_meer_gemeenten"] > 0
    in_shared = nr.set_index(["regio", "toewijzing_nr"]).index.isin(shared.index)
    assert in_shared.sum() == g["toewijzingen_met_gedeeld_nummer"]
    assert nr["toewijzing_nr"].duplicated().any()
    # JW325: rows, amounts, codes, whole declarations
    a, afw = ds.afwijzingen, v["afwijzingen"]
    assert len(a) == afw["afwijzingen_rijen"] == manifest["records"]["JW325"]
    lines = a[a["referentie_nr"].notna()]
    whole = a[a["referentie_nr"].isna()]
    assert len(lines) == afw["regels"] and int(lines["bedrag_cent_signed"].sum()) == afw["bedrag_cent"]
    assert lines["retourcodes"].value_counts().sort_index().to_dict() == afw["retourcodes"]
    assert len(whole) == afw["hele_declaraties"] + v["jw325_alle_regels_afgewezen"]
    assert whole["bron"].str.endswith("#DeclaratieAntwoord").all()
    assert a["declaratie_nr"].nunique() == v["jw325_berichten"]
    # a rejected line's declaration is in declaraties (same aanbieder, DeclaratieNummer, ReferentieNummer)
    d = ds.declaraties
    hit = lines.merge(d, on=["agb", "declaratie_nr", "referentie_nr"], how="inner")
    assert len(hit) == len(lines)
    assert (hit["bedrag_cent_signed_x"] == hit["bedrag_cent_signed_y"]).all()
    # the share of rejected lines is a few percent, most declared again (ReferentieNummer ...4)
    assert 0.015 < (afw["regels"] + afw["hele_declaraties_regels"]) / len(d) < 0.05
    again = d["referentie_nr"].str.endswith(("4", "5"))
    assert again.sum() == afw["opnieuw_ingediend"]
    # receipt: DeclaratieDagtekening on every line, the lag of the manifest
    assert d["declaratiedatum"].notna().all()
    lag = (d["declaratiedatum"] - d["periode_eind"]).dt.days
    r = v["declaratiedatum"]
    assert (len(lag), int((lag <= 31).sum()), int((lag <= 92).sum()), int((lag > 183).sum()), int(lag.max())) == \
        (r["regels"], r["binnen_31_dagen"], r["binnen_92_dagen"], r["meer_dan_183_dagen"], r["max_dagen"])
    assert (lag <= 31).mean() > 0.6 and (lag <= 92).mean() > 0.9 and (lag > 183).any()
    # start/stop corrections: each deletion (status 3) repeats an earlier record and is followed by a new one
    ss = ds.start_stop
    for kind in ("JW305", "JW307"):
        k = ss[ss["bericht"] == kind]
        dele = k[k["status_aanlevering"] == "3"]
        assert len(dele) == v["correcties_start_stop"][kind] > 0
        key = ["agb", "gemeentecode", "toewijzing_nr", "begindatum"]
        same = k.merge(dele[key], on=key)
        # JW305: the cancelled record and the deletion share the (wrong) Begindatum, the new one
        # has the right one; JW307: the Einddatum was wrong, so the new record shares the key too
        assert (same.groupby(key).size() == (2 if kind == "JW305" else 3)).all()
        if kind == "JW307":
            ends = same.groupby(key)["einddatum"].nunique()
            assert (ends == 2).all()
    assert set(ss["status_aanlevering"]) == {"1", "3"}
    # releases: per kind and release what the manifest wrote
    tel = ds.ingest_telling
    for kind, rels in manifest["releases"].items():
        for rel, n in rels.items():
            row = tel[(tel["invoer"] == kind) & (tel["ijw_release"] == rel)]
            assert int(row["gelezen"].iloc[0]) == n["records"], (kind, rel)
    for t in ("toewijzingen", "declaraties", "start_stop", "verzoeken", "afwijzingen"):
        assert set(getattr(ds, t)["ijw_release"]) == {"3.0", "3.1", "3.2"}, t
    # one region's deliveries zipped, one archive per month
    z = manifest["zip"]
    bron = pd.concat([getattr(ds, t)["bron"].str.split("#").str[0] for t in
                      ("toewijzingen", "declaraties", "start_stop", "verzoeken", "afwijzingen")])
    q = ds.quarantaine["bestand"]
    members = set(bron[bron.str.contains(".zip!", regex=False)]) | set(q[q.str.contains(".zip!", regex=False)])
    assert len(members) == z["berichten"] > 0
    assert len({m.split("!")[0] for m in members}) == z["archieven"]
    assert all(m.startswith(f"berichten/{z['regio']}/") for m in members)


def test_exercises_versions_reasons_frequencies_and_referrers(mini_processed):
    tw = mini_processed.toewijzingen
    assert {"04", "05", "13", "14"} <= set(tw["reden_wijziging"].dropna())
    assert {"1", "2", "4", "6"} <= set(tw["frequentie"].dropna())
    assert tw["budget_cent"].notna().any() and tw["einddatum"].isna().any()
    ss = mini_processed.start_stop
    assert {"JW305", "JW307"} == set(ss["bericht"])
    reasons = set(ss["reden_beeindiging"].dropna())
    assert "31" in reasons and len(reasons) >= 3
    assert mini_processed.verzoeken["verwijzer_type"].nunique() >= 3
    dec = mini_processed.declaraties
    assert (dec["bedrag_cent_signed"] < 0).any() and (dec["bedrag_cent_signed"] == 0).any()
    assert {"01", "04", "14", "16", "82", "83"} <= set(dec["eenheid"])


def test_declaration_lag_leaves_the_last_months_short(mini_processed):
    dec = mini_processed.declaraties
    assert dec["periode_begin"].max() < pd.Timestamp("2024-09-01")
    per_month = dec.groupby(dec["periode_begin"].dt.to_period("M"))["bedrag_cent_signed"].sum()
    full = per_month.loc["2024-01":"2024-05"].mean()
    # August 2024 (extract 11 September) is short; the months before it are complete.
    # (Small fixture: few aanbieders, so the shortfall is milder than in the full demo,
    # where test_calibration checks it is under 60%.)
    assert per_month.loc["2024-08"] < 0.9 * full
    assert per_month.loc["2024-03"] > 0.9 * full


def test_cli_and_errors(tmp_path, capsys):
    out = tmp_path / "d"
    gem = tmp_path / "g.csv"
    _one_region("JZ42").to_csv(gem, index=False)
    rc = cli.main(["demo", "--out", str(out), "--scale", "0.005", "--seed", "3", "--gemeenten", str(gem),
                   "--quiet"])
    assert rc == 0 and (out / "manifest.json").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert [r["regio_naam"] for r in m["regios"]] == ["Midden-Limburg Oost"]
    # a second run replaces the dataset in place
    assert cli.main(["demo", "--out", str(out), "--scale", "0.005", "--seed", "3", "--gemeenten", str(gem),
                     "--quiet"]) == 0
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert cli.main(["demo", "--out", str(tmp_path / "x"), "--quiet"]) != 0
    assert "geen demodataset" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("gemeentecode,gemeentenaam\n0983,Venlo\n")
    with pytest.raises(JeugdlibError, match="regio_code"):
        demo.write_demo(tmp_path / "y", gemeenten=bad)
    with pytest.raises(JeugdlibError, match="scale"):
        demo.write_demo(tmp_path / "z", scale=0)


def test_bsn_generator_is_valid_and_distinct():
    b = demo._bsns(7, 5000)
    assert len(set(b)) == 5000
    assert privacy.elfproef(pd.Series(b)).all()
    assert not privacy.elfproef(pd.Series(demo._corrupt_bsn(b[:50]))).any()
