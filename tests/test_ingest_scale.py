"""Ingest of many small messages: the listing streamed in chunks, duplicates found across
chunks and processes, small messages read in batches. Whatever the chunking, batching or
number of processes, the tables are the same, byte for byte."""

from __future__ import annotations

import hashlib
import re

import pytest

from jeugdlib import ingest
from jeugdlib.ijw import reader
from test_ingest import assert_counts_add_up, make_ds, run
from test_ingest_releases import _zip, release


@pytest.fixture(scope="module")
def vb(ijw_berichten_dir) -> dict[str, str]:
    return {b: (ijw_berichten_dir / f"{b}.xml").read_text(encoding="utf-8")
            for b in ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")}


def _hashes(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def _many(vb) -> dict[str, str | bytes]:
    """Some 60 messages of every type and release, with duplicates far apart (another
    chunk), broken and odd files, a zip archive and a large JW323 read on its own."""
    files: dict[str, str | bytes] = {}
    types = ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")
    for k in range(48):
        b = types[k % len(types)]
        xml = vb[b].replace("123456789012", f"77{k:04d}")  # BerichtIdentificatie of JW301/305/307
        xml = xml.replace("<ijw:Identificatie>", f"<ijw:Identificatie>{k:03d}")
        if k % 5 == 0:
            xml = release(xml, "3.1")
        files[f"berichten/{k // 12}/{k:03d}_{b}.xml"] = xml
    files["berichten/3/900_dubbel_sleutel.xml"] = files["berichten/0/000_JW301.xml"].replace("\t", " ")
    files["berichten/1/013_JW305.xml"] = re.sub(r"<ijw:Identificatie>[^<]*</ijw:Identificatie>", "",
                                                files["berichten/1/013_JW305.xml"])  # no key: bytes compared
    files["berichten/3/901_dubbel_bytes.xml"] = files["berichten/1/013_JW305.xml"]
    files["berichten/1/015_kapot.xml"] = vb["JW307"][:300]
    files["berichten/1/016_leeg.xml"] = b""
    files["berichten/2/030_commentaar.xml"] = vb["JW301"].replace("<jw301:Client>", "<!-- x --><jw301:Client>")
    files["berichten/2/031_twee_headers.xml"] = vb["JW305"].replace(
        "</jw305:Header>", "</jw305:Header><jw305:Header><jw305:Afzender>1</jw305:Afzender></jw305:Header>", 1)
    files["berichten/2/032_crlf.xml"] = vb["JW323"].replace("\n", "\r\n").replace("765432198", "7654321")
    files["berichten/2/033.zip"] = _zip({"a.xml": vb["JW315"].replace("<jw315:Bsn>", "<jw315:Bsn>1"),
                                         "b.xml": vb["JW301"]})  # b.xml: a duplicate of 000_JW301.xml
    files["berichten/2/034_tekst_na_einde.xml"] = vb["JW305"] + "tekst"
    big = vb["JW323"]
    a, b = big.index("<jw323:Client>"), big.rindex("</jw323:Client>") + len("</jw323:Client>")
    files["berichten/3/950_groot.xml"] = big[:a] + big[a:b] * 600 + big[b:]
    return files


def test_streamed_listing_chunks_and_processes_give_the_same_tables(tmp_path, vb, monkeypatch):
    root = make_ds(tmp_path / "ds", _many(vb))
    ref = run(root, tmp_path / "ref", workers=1)
    assert_counts_add_up(ref)
    q = ref.quarantaine
    dup = q[q["regel"] == "dubbel_bericht"]
    assert set(dup["bestand"]) == {"berichten/2/033.zip!b.xml", "berichten/3/900_dubbel_sleutel.xml",
                                   "berichten/3/901_dubbel_bytes.xml"}
    assert set(q.loc[q["bestand"] == "berichten/3/901_dubbel_bytes.xml", "melding"]) == {
        "byte voor byte gelijk aan berichten/1/013_JW305.xml"}
    assert q.set_index("bestand").loc["berichten/1/015_kapot.xml", "regel"] == "xml_onleesbaar"
    assert q.set_index("bestand").loc["berichten/2/034_tekst_na_einde.xml", "regel"] == "xml_onleesbaar"
    want = _hashes(tmp_path / "ref")
    # streamed: listed while read, in chunks of 7 files (duplicates in other chunks than their
    # originals), on one and on two processes, with and without batches of small messages
    monkeypatch.setattr(ingest, "STREAM_MIN_FILES", 10)
    monkeypatch.setattr(ingest, "CHUNK_FILES", 7)
    for name, workers, batch in [("s1", 1, 1024), ("s2", 2, 1024), ("s2_los", 2, 1), ("s1_drie", 1, 3)]:
        monkeypatch.setattr(ingest, "SMALL_BATCH_FILES", batch)
        res = run(root, tmp_path / name, workers=workers)
        assert _hashes(tmp_path / name) == want, name
        assert res.n_berichten == ref.n_berichten == 59
        assert res.telling.equals(ref.telling)
    assert not list(tmp_path.glob("*/.spill")) and not list((tmp_path / "s2").glob(".*tmp"))


def test_listing_streams_in_path_order(tmp_path, vb):
    """A folder's files, zip members and subfolders come in the order of sorting all paths."""
    names = ["a.xml", "a/b.xml", "a.b/c.xml", "a b.xml", "a-/x.xml", "x.zip", "x.zip .xml", "x.zipa.xml",
             "y/z/1.xml", "y/z.xml", "y.xml", "Z.xml", "~$tmp.xml", ".verborgen.xml", "geen.txt"]
    files = {f"berichten/{n}": (_zip({"m/2.xml": vb["JW301"], "1.xml": vb["JW301"]}) if n.endswith(".zip")
                                else vb["JW305"]) for n in names}
    root = make_ds(tmp_path / "ds", files)
    bad: list = []
    got = [r for r, _s in ingest._iter_messages(root, bad)]
    assert got == sorted(got) and not bad
    assert "berichten/x.zip!m/2.xml" in got and "berichten/~$tmp.xml" not in got and len(got) == 13


def _batch_and_alone(datas: list[bytes]) -> tuple[list, list]:
    """Records and infos of small messages read in one batch, and read one by one with lxml."""
    alone_sinks: dict = {}
    alone = [reader.read_message(d, file_idx=i, sinks=alone_sinks, batch_size=10**9, fast=False)[0]
             for i, d in enumerate(datas)]
    infos = [reader.MessageInfo() for _ in datas]
    keys = [reader.batch_key(d, info) for d, info in zip(datas, infos)]
    assert all(k is not None and k[2] == keys[0][2] for k in keys)
    assert reader.wellformed([d[k[0]:] for d, k in zip(datas, keys)])
    bericht = keys[0][2].bericht
    sink = reader.Sink(reader.SPECS[bericht], batch_size=10**9)
    reader.read_batch(keys[0][2], datas, [k[1] for k in keys], list(range(len(datas))), infos, sink)
    for info, d in zip(infos, datas):
        info.sha256 = hashlib.sha256(d).hexdigest()
    return (sink.table().to_pylist(), infos), (alone_sinks[bericht].table().to_pylist(), alone)


@pytest.mark.parametrize("bericht", ["JW301", "JW305", "JW307", "JW315", "JW323"])
def test_batch_reads_what_lxml_reads(vb, bericht):
    x = vb[bericht]
    variants = [
        x,
        x.replace("\n", "\r\n"),
        re.sub(r"<ijw:Identificatie>[^<]*</ijw:Identificatie>", "<ijw:Identificatie/>", x),
        re.sub(r"<(\w+):Bsn>[^<]*</\w+:Bsn>", "", x, count=1),  # the first client without a Bsn
        x.replace("Bsn>", "Bsn >", 1),
        "\ufeff" + x.replace("\n", "", 3),
        x.replace("Geslacht>", "Geslacht  >"),
    ]
    i = x.find("</", x.find("<jw3") + 1)
    variants.append(x[:i] + " " + x[i:])  # white space in a text
    datas = [v.encode("utf-8") for v in variants if reader.batch_key(v.encode("utf-8"), reader.MessageInfo())]
    assert len(datas) >= 5
    (bt, bi), (at, ai) = _batch_and_alone(datas)
    assert bt == at
    assert bi == ai


def test_batch_leaves_what_it_cannot_read_to_lxml(vb):
    x = vb["JW305"]
    ok = x.encode("utf-8")
    for odd in (x.replace("</jw305:Header>", "</jw305:Header><jw305:Header/>", 1),
                x.replace("<jw305:Client>", "<?pi x?><jw305:Client>"),
                x.replace("<jw305:Client>", '<jw305:Client id="1">'), x + "\n<!-- na het einde -->"):
        two = odd.encode("utf-8")
        keys = [reader.batch_key(d, reader.MessageInfo()) for d in (ok, two)]
        if keys[1] is None:
            continue
        with pytest.raises(reader.Unsupported):
            reader.read_batch(keys[0][2], [ok, two], [k[1] for k in keys], [0, 1],
                              [reader.MessageInfo(), reader.MessageInfo()], reader.Sink(reader.SPECS["JW305"]))
    for odd in (x.replace("<jw305:Client>", "<!-- c --><jw305:Client>"), x.replace("9999", "&#57;999", 1),
                x.replace("<?xml", "<!DOCTYPE x><?xml"), vb["JW325"], "<a/>"):
        assert reader.batch_key(odd.encode("utf-8"), reader.MessageInfo()) is None
    assert not reader.wellformed([ok[keys[0][0]:], b"<jw305:Bericht>"])
