"""Benchmark of the demo generator: time, size, peak memory, and XSD validation of every file.

    .venv/bin/python benchmarks/bench_demo.py                      # default demo into a temp dir
    .venv/bin/python benchmarks/bench_demo.py --out data/raw/demo  # ... or into a given folder
    .venv/bin/python benchmarks/bench_demo.py --national           # all 42 regions -> data/raw/national
    .venv/bin/python benchmarks/bench_demo.py --out DIR --validate-only

Generation runs in a child process so that its peak RSS is measured on its own.
Validation checks every message against the official XSDs (../shared/ijw/xsd).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jeugdlib import config  # noqa: E402


def generate(out: Path, national: bool, scale: float, seed: int) -> dict:
    args = [sys.executable, "-m", "jeugdlib.cli", "demo", "--out", str(out), "--scale", str(scale),
            "--seed", str(seed), "--quiet"]
    if national:
        args += ["--gemeenten", str(config.SHARED_DIR / "ref" / "gemeenten_2026.csv")]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT)
    secs = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"seconds": secs, "peak_rss_mb": rss_kb / 1024, "manifest": man}


def validate(out: Path) -> dict:
    from lxml import etree

    xsd = config.SHARED_DIR / "ijw" / "xsd"
    schemas = {k: etree.XMLSchema(etree.parse(str(xsd / f"{k}.xsd"))) for k in config.BERICHTEN}
    parser = etree.XMLParser(resolve_entities=False, huge_tree=True)
    counts, bad = {}, []
    t0 = time.perf_counter()

    def messages():
        # loose files and the members of the zipped region's monthly archives
        for p in sorted((out / "berichten").rglob("*")):
            if p.suffix == ".xml":
                yield str(p.relative_to(out)), p.name, p.read_bytes()
            elif p.suffix == ".zip":
                with zipfile.ZipFile(p) as zf:
                    for name in sorted(zf.namelist()):
                        yield f"{p.relative_to(out)}!{name}", Path(name).name, zf.read(name)

    for rel, name, data in messages():
        kind = name[:5]
        # iJw 3.0/3.1 messages: the same elements at the same paths; validated against the
        # official 3.2 XSDs after rewriting namespace and BerichtSubversie to 3.2
        for ns in (b"3_0", b"3_1"):
            if b"/ijw/" + ns + b"/" in data[:400]:
                data = data.replace(b"/ijw/" + ns + b"/", b"/ijw/3_2/").replace(
                    b"BerichtSubversie>" + ns[-1:] + b"<", b"BerichtSubversie>2<", 1)
        doc = etree.fromstring(data, parser)
        counts[kind] = counts.get(kind, 0) + 1
        if not schemas[kind].validate(doc):
            bad.append(f"{rel}: {schemas[kind].error_log.last_error}")
    return {"files": counts, "invalid": bad, "seconds": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None)
    ap.add_argument("--national", action="store_true", help="all regions of ../shared/ref/gemeenten_2026.csv")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--validate-only", action="store_true")
    ap.add_argument("--no-validate", action="store_true")
    a = ap.parse_args()
    tmp = None
    if a.out:
        out = Path(a.out)
    elif a.national:
        out = config.RAW_DIR / "national"
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_demo_")
        out = Path(tmp.name) / "demo"
    if not a.validate_only:
        g = generate(out, a.national, a.scale, a.seed)
        m = g["manifest"]
        n_files = sum(m["bestanden"].values())
        clients = sum(r["clienten"] for r in m["regios"])
        print(f"dataset        {out}  ({'national' if a.national else 'demo'}, scale {a.scale}, seed {a.seed})")
        print(f"regions        {len(m['regios'])}   clients {clients:,}   Prestaties {m['records']['JW323']:,}")
        print(f"files          {n_files:,}  " + "  ".join(f"{k} {v:,}" for k, v in m["bestanden"].items()))
        print(f"size           {m['bytes'] / 1e6:,.0f} MB of XML")
        print(f"time           {g['seconds']:.1f} s")
        print(f"peak RSS       {g['peak_rss_mb']:,.0f} MB")
    if not a.no_validate:
        v = validate(out)
        print(f"XSD validation {sum(v['files'].values()):,} files in {v['seconds']:.0f} s: "
              f"{len(v['invalid'])} invalid")
        for line in v["invalid"][:10]:
            print("  ", line)
        if v["invalid"]:
            return 1
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
