"""Shared test fixtures.

Tests that need ``../shared`` (official XSDs, example messages, CBS table) use
the ``shared_dir`` fixture: when ``CI`` is set and it is missing they fail,
elsewhere they skip with a reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jeugdlib import config


def _need_shared(sub: str = "") -> Path:
    p = config.SHARED_DIR / sub
    if not p.exists():
        msg = f"{p} is missing (official iJw material is read from ../shared, never copied in)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _need_shared()


@pytest.fixture(scope="session")
def ijw_xsd_dir() -> Path:
    return _need_shared("ijw/xsd")


@pytest.fixture(scope="session")
def ijw_berichten_dir() -> Path:
    return _need_shared("ijw/berichten")


@pytest.fixture(scope="session")
def gemeenten_2026() -> Path:
    return _need_shared("ref/gemeenten_2026.csv")


@pytest.fixture(autouse=True, scope="session")
def _test_key(tmp_path_factory):
    """A fixed pseudonymisation key for tests, never the user's key file (set in ../conftest.py
    for notebooks too; at least 32 bytes, as privacy.load_key requires)."""
    os.environ.setdefault("JEUGDLIB_KEY", "test-key-not-secret-0123456789abcdef")
    yield
