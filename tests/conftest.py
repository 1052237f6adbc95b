"""Shared fixtures: synthetic audio for unit tests, the real recordings for integration tests."""

import os
import tempfile
from pathlib import Path

# pytest -n 2 on a fresh clone: both workers would compile librosa's and our numba
# functions (cache=True) into the same __pycache__ at once, and a worker read a
# half-written cache and segfaulted in librosa's peak_pick. Each worker process gets
# its own cache folder; this must run before anything imports numba.
if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sklaudio-numba-")

import matplotlib
import numpy as np
import pytest
from hypothesis import settings

matplotlib.use("Agg")  # figures render headless in tests

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60, database=None)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]


def data_dir():
    """The shared recordings: $SKLAUDIO_DATA, else ../shared/data beside the project."""
    return Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def require_data(name):
    """Path of a data set; a missing one fails under CI=true and skips elsewhere."""
    path = data_dir() / name
    if not path.exists():
        msg = f"data set {name!r} not found at {path} (set SKLAUDIO_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(440)


@pytest.fixture(params=[42])
def global_random_seed(request):
    return request.param


def harmonic(f0, sr=16000, duration=1.0, n_harmonics=8, amp=0.5, phase=0.0):
    """A harmonic tone with 1/k amplitudes; ``f0`` may be an array (one value per sample)."""
    n = int(round(sr * duration))
    f0 = np.broadcast_to(np.asarray(f0, dtype=float), (n,))
    ph = 2 * np.pi * np.cumsum(f0) / sr + phase
    y = sum(np.sin(k * ph) / k for k in range(1, n_harmonics + 1))
    return (amp * y / np.max(np.abs(y))).astype(np.float64)


@pytest.fixture
def speechlike():
    """Return a function making a formant-filtered pulse train (a crude synthetic vowel)."""
    from scipy.signal import lfilter

    def make(f0=120.0, sr=16000, duration=1.0, formants=(700, 1200, 2600), seed=0):
        r = np.random.default_rng(seed)
        n = int(sr * duration)
        period = sr / f0
        src = np.zeros(n)
        src[(np.arange(0, n, period)).astype(int)] = 1.0
        src += 0.01 * r.standard_normal(n)
        y = src
        for f in formants:
            bw = 80 + 0.05 * f
            rad = np.exp(-np.pi * bw / sr)
            theta = 2 * np.pi * f / sr
            y = lfilter([1 - rad], [1, -2 * rad * np.cos(theta), rad**2], y)
        return 0.3 * y / np.max(np.abs(y))

    return make
