"""requirements.txt and environment.yml pin the same versions."""

import re

from jeugdlib import config


def _pins(text, sep):
    out = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(rf"([A-Za-z0-9_.\-]+){sep}([0-9][^\s]*)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_requirements_and_environment_agree():
    req = _pins((config.PROJ_ROOT / "requirements.txt").read_text(), "==")
    env = _pins((config.PROJ_ROOT / "environment.yml").read_text(), "=")
    env.pop("python", None)
    assert req, "no pins in requirements.txt"
    assert req == env
