"""``kernel_path``: runs a test on the NumPy path and, when numba is installed, on the
compiled kernels (:mod:`miniflow.ml.compiled`); both must pass the same tests."""

import pytest

from miniflow.ml import compiled


@pytest.fixture(params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    if request.param == "numba":
        if not compiled.available():
            pytest.skip("numba is not installed (the [fast] extra)")
        monkeypatch.delenv(compiled.ENV, raising=False)
    else:
        monkeypatch.setenv(compiled.ENV, "1")
    return request.param
