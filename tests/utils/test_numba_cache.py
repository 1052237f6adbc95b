"""Processes filling an empty numba cache at once: no crash, no poisoned cache (issue 12)."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import ROOT

# what each process runs: tiny clips through the two extractors that reach numba code
SCRIPT = """
import sys, warnings
import numpy as np
from sklaudio.features import F0Stats, TemporalFeatures
warnings.simplefilter("ignore")
sr = 8000
t = np.arange(sr // 2) / sr
X = [0.5 * np.sin(2 * np.pi * 150 * t) + 0.01 * np.random.default_rng(0).standard_normal(t.size)]
rows = [TemporalFeatures(sr=sr).fit_transform(X), F0Stats(sr=sr).fit_transform(X)]
np.save(sys.argv[1], np.concatenate(rows, axis=1))
"""


def _start(out, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run_together(n, folder, cache_dir):
    procs = [_start(folder / f"out{i}.npy", cache_dir) for i in range(n)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()[-2000:]  # a segfault is -11
    return [np.load(folder / f"out{i}.npy") for i in range(n)]


def test_processes_filling_an_empty_cache_together_neither_crash_nor_poison_it(tmp_path):
    """Check 4 processes started together on an empty NUMBA_CACHE_DIR (fresh folders,
    SKLAUDIO_NUMBA_RACE_ROUNDS rounds, default 1: each fills the cache with librosa's
    compiled functions, about a minute on a loaded machine), then a normal run on the
    cache they left, all finish and give identical features."""
    rounds = int(os.environ.get("SKLAUDIO_NUMBA_RACE_ROUNDS", "1"))
    outputs = []
    for r in range(rounds):
        folder = tmp_path / f"round{r}"
        folder.mkdir()
        outputs += _run_together(4, folder, folder / "numba-cache")
    outputs += _run_together(1, tmp_path, tmp_path / "round0" / "numba-cache")
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])
    assert np.isfinite(outputs[0]).all()


@pytest.mark.skipif(sys.platform == "win32", reason="the lock uses fcntl (POSIX)")
def test_librosa_import_waits_for_the_cache_lock():
    """Check that a process importing librosa through sklaudio waits while another holds
    the lock of the same cache folder, and goes on once it is released."""
    from sklaudio import _numba_cache

    # the cache folder this test session uses (already filled: the child loads it)
    code = ("import time, sklaudio, librosa.util; "
            "print(time.time(), type(librosa.util.__loader__).__name__)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with _numba_cache.librosa_import_lock():
        child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3.0)
        released = time.time()
    out, err = child.communicate(timeout=600)
    assert child.returncode == 0, err[-2000:]
    finished, loader = out.split()
    assert float(finished) >= released  # librosa loaded only after the lock was released
    assert loader == "_LockedLoader"
