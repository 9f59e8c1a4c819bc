"""The README's metric table is the registry's (scripts/kpi_tabel.py --schrijf)."""

import importlib.util

from jeugdlib import config


def test_readme_metric_table_matches_registry():
    spec = importlib.util.spec_from_file_location("kpi_tabel", config.PROJ_ROOT / "scripts" / "kpi_tabel.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    readme = (config.PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    assert mod.BEGIN in readme and mod.EIND in readme
    assert mod.in_readme(readme, mod.tabel()) == readme, "run: .venv/bin/python scripts/kpi_tabel.py --schrijf"
