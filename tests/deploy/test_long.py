"""A recording longer than the memory allowed goes through a fitted pipeline's predict.

The child process gets an address-space limit (``resource.RLIMIT_AS``) well below what
the whole recording's arrays need: streamed (the default for long files), ``predict``
finishes under it; loaded whole (``stream=False``) it runs out of memory. A shorter
recording checks that streamed and whole give the same probabilities.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose

from sklaudio.deploy import predict_files

SR = 16000


def _minute(seed):
    """A minute of speech-like bursts (two voices of different pitch) over noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(60 * SR) / SR
    f0 = np.where((t // 7) % 2 == 0, 120.0, 220.0)
    on = np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6)) > -0.3
    voice = 0.3 * on * np.sin(2 * np.pi * np.cumsum(f0) / SR) * (1.2 + np.sin(8 * t))
    return voice / 2.2 + 0.01 * rng.standard_normal(len(t))


def _write_long(path, seconds, seed=0):
    """``seconds`` of :func:`_minute`, each minute with its own noise (cut to length)."""
    with sf.SoundFile(str(path), "w", SR, 1, subtype="PCM_16") as f:
        for start in range(0, int(seconds), 60):
            f.write(_minute(seed + start)[: (int(seconds) - start) * SR])
    return str(path)


def _write_repeated(path, seconds, seed=0):
    """``seconds`` of one minute repeated: a long file written in seconds."""
    minute = (_minute(seed) * 32767).astype(np.int16)
    with sf.SoundFile(str(path), "w", SR, 1, subtype="PCM_16") as f:
        for _ in range(int(seconds) // 60):
            f.write(minute)
    return str(path)


def _small_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklaudio.features import MelFeatures
    from sklaudio.io import AudioLoader
    from sklaudio.preprocessing import Denoiser, Trimmer

    # the audio steps of the age/gender pipeline with its cheapest extractor, to keep
    # a two-hour file under a minute or two
    return make_pipeline(AudioLoader(sr=SR), Denoiser(), Trimmer(top_db=40),
                         MelFeatures(hop_length=256), LogisticRegression())


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import joblib

    folder = tmp_path_factory.mktemp("long")
    paths = [_write_long(folder / f"train{i}.wav", 4, seed=i) for i in range(6)]
    # two classes that differ in level, so the probabilities are not all 0.5
    for i, p in enumerate(paths[:3]):
        y, _ = sf.read(p)
        sf.write(p, 0.3 * y, SR, subtype="PCM_16")
    pipe = _small_pipeline().fit(paths, [0, 0, 0, 1, 1, 1])
    joblib.dump(pipe, folder / "model.joblib")
    return pipe, folder


def test_streamed_predict_equals_whole(model):
    """Check a 4-minute file (over the 120 s "auto" threshold) gives the whole file's output."""
    pipe, folder = model
    path = _write_long(folder / "four_minutes.wav", 240, seed=9)
    assert pipe[0].transform([path])[0].__class__.__name__ == "StreamedClip"
    # the log-odds, which unlike a probability near 0 or 1 show every difference
    streamed = pipe.decision_function([path])
    pipe.set_params(audioloader__stream=False)
    try:
        whole = pipe.decision_function([path])
        proba = pipe.predict_proba([path])
    finally:
        pipe.set_params(audioloader__stream="auto")
    assert_allclose(streamed, whole, rtol=1e-5)
    # predict_files streams it too, beside short files, rows in order
    rows = list(predict_files(pipe, [path, str(folder / "train0.wav"), path], batch_size=2))
    assert [r["input"] for r in rows] == [path, str(folder / "train0.wav"), path]
    assert_allclose([rows[0]["proba"]["0"], rows[2]["proba"]["0"]], proba[0, 0], atol=1e-6)
    assert rows[0]["duration_s"] == 240.0 and rows[0]["quality"] == "ok"


_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import joblib
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    pipe = joblib.load(sys.argv[1])
    pipe.set_params(audioloader__stream=sys.argv[4] == "stream")
    start = time.process_time()
    try:
        proba = pipe.predict_proba([sys.argv[2]])[0].tolist()
        error = None
    except MemoryError as exc:
        proba, error = None, f"MemoryError: {exc}"
    # the peak of this program's own memory (VmHWM starts again at exec), not
    # ru_maxrss: Linux carries that over from the forking test process, whose own
    # resident memory may already exceed what is measured here
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    print(json.dumps({"proba": proba, "error": error, "peak": peak,
                      "cpu": time.process_time() - start}))
""")


def test_two_hour_file_predicts_under_a_memory_limit(model, tmp_path):
    """Check a 2-hour file goes through predict with 1.5 GB of address space.

    Its samples alone are 460 MB in float32 and the Denoiser's spectrogram of the whole
    file 1.8 GB: loaded whole, predict runs out of memory under the same limit.
    """
    pipe, folder = model
    path = _write_repeated(tmp_path / "two_hours.wav", 2 * 3600, seed=3)
    limit = 1536 * 2**20
    # one BLAS thread and few malloc arenas: address space that threads reserve but do
    # not use would otherwise count against the limit on a machine with many cores
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", MALLOC_ARENA_MAX="2")

    def run(mode):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(folder / "model.joblib"), path,
                              str(limit), mode], capture_output=True, text=True, env=env,
                             timeout=900)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    streamed = run("stream")
    assert streamed["error"] is None
    assert streamed["peak"] < 1024 * 2**20  # resident memory under 1 GB
    whole = run("whole")
    assert whole["proba"] is None and "MemoryError" in whole["error"]
    # streamed and whole outputs are compared on the 4-minute file above (the whole
    # two hours would need over 10 GB); here the output is a probability
    assert 0.0 <= streamed["proba"][0] <= 1.0 and np.isclose(sum(streamed["proba"]), 1.0)
