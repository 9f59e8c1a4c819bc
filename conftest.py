"""Test settings for everything pytest collects (tests/ and the notebooks run by nbval).

Set before any test or notebook kernel starts, so that kernels inherit them: a
fixed pseudonymisation key (never the user's key file) and a temporary data
folder for processed datasets made on the fly (never ``data/`` of the work tree,
nor a ``data/`` folder beside a notebook).
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("JEUGDLIB_KEY", "test-key-not-secret-0123456789abcdef")
if "JEUGDLIB_DATA" not in os.environ:
    _data = tempfile.mkdtemp(prefix="jeugdlib-test-data-")
    os.environ["JEUGDLIB_DATA"] = _data
    atexit.register(shutil.rmtree, _data, ignore_errors=True)
