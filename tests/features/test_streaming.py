"""Streamed clips (read block by block) give the rows of the whole clips, in bounded memory.

Every clip-level extractor that reads a :class:`StreamedClip` is listed in EXTRACTORS,
one line each: the class and the parameters the test uses (small, so the test is fast;
the defaults' statistics are mean and std, exact up to float rounding). The clips here
have far fewer frames than StatsAccumulator keeps, so medians and percentiles are exact
too; their estimate on longer series, and its error bound, are tested in
test_accumulate.py.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator

from sklaudio.features import (
    AudioQuality,
    F0Stats,
    FormantFeatures,
    MelFeatures,
    TemporalFeatures,
)
from sklaudio.features._base import ClipFeaturesMixin
from sklaudio.utils._stream import StreamedClip

SR = 16000

# (class, parameters); other extractors add one line each
EXTRACTORS = [
    (MelFeatures, dict(kind=("stats", "mfcc", "image"), n_mels=24, n_mfcc=8, duration=0.5,
                       stats=("mean", "std", "min", "max", "median"), percentiles=(10, 90))),
    (MelFeatures, dict(kind="mfcc", n_fft=512, hop_length=160, n_mels=32, delta_width=5,
                       top_db=None)),
    (MelFeatures, dict(kind="image", n_fft=400, hop_length=100, win_length=300,
                       center=False, duration=0.25)),
    (TemporalFeatures, dict(n_mels=32, stats=("mean", "std", "max", "median"),
                            percentiles=(5,))),
    (TemporalFeatures, dict(n_fft=1024, hop_length=256, center=False)),
    (AudioQuality, dict()),
    (F0Stats, dict()),
    (F0Stats, dict(fmin=80.0, fmax=400.0, frame_length=1024, hop_length=160,
                   percentiles=(10, 50, 90), min_run_prob=0.3)),
    (FormantFeatures, dict()),
    (FormantFeatures, dict(max_frames=None, stats=("mean", "std", "min", "max"),
                           percentiles=(25,))),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(EXTRACTORS)]


class _RandomBlocks:
    """A clip handed out in blocks of random sizes (at most block_size), fixed by a seed.

    The first cuts fall inside the first frame and the last ones inside the last frame.
    """

    def __init__(self, y, seed, edge=2048):
        self.y, self.seed, self.edge = y, seed, edge

    def __call__(self, block_size):
        rng = np.random.default_rng(self.seed)
        n = len(self.y)
        cuts = set(rng.integers(1, max(2, min(self.edge, n)), 3).tolist())
        cuts |= set((n - rng.integers(1, max(2, min(self.edge, n)), 3)).tolist())
        cuts |= set(rng.integers(1, max(2, n), 8).tolist())
        cuts = sorted(c for c in cuts if 0 < c < n)
        start = 0
        for stop in cuts + [n]:
            for a in range(start, stop, block_size):  # at most block_size each
                yield self.y[a : min(stop, a + block_size)]
            start = stop


def _speechlike(n, seed):
    """Voiced tone with a moving pitch, bursts and pauses, over noise (float32)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    tone = np.sin(2 * np.pi * np.cumsum(f0) / SR) + 0.4 * np.sin(4 * np.pi * np.cumsum(f0) / SR)
    gate = (np.sin(2 * np.pi * 2.3 * t + rng.uniform(0, 6)) > -0.2).astype(float)
    y = 0.3 * tone * gate + 0.01 * rng.standard_normal(n)
    return y.astype(np.float32)


def _streamed(y, seed, block_size=None):
    source = _RandomBlocks(y, seed)
    return StreamedClip(source, sr=SR, n_samples=len(y), dtype=y.dtype, name="test.wav")


def _rows(cls, params, y, clip):
    est = cls(sr=SR, **params).fit([y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quality warnings of the short clips
        whole = est.transform([y])
        streamed = est.transform([clip])
    return est, whole, streamed


@pytest.mark.parametrize("n", [300, 12_345, 3 * SR + 77])
@pytest.mark.parametrize("cls, params", EXTRACTORS, ids=IDS)
def test_streamed_row_equals_whole_clip_row(cls, params, n):
    """Check a streamed clip's row is the whole clip's, for random block boundaries."""
    y = _speechlike(n, n)
    for seed in range(2):
        est, whole, streamed = _rows(cls, params, y, _streamed(y, seed))
        assert streamed.shape == whole.shape == (1, len(est.get_feature_names_out()))
        assert_allclose(streamed, whole, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, params", EXTRACTORS[:1], ids=IDS[:1])
def test_streamed_and_in_memory_clips_keep_input_order(cls, params):
    """Check a list mixing streamed and in-memory clips gives rows in input order."""
    ys = [_speechlike(n, n) for n in (SR, 2 * SR, SR // 2)]
    est = cls(sr=SR, **params).fit(ys)
    mixed = [ys[0], StreamedClip.from_array(ys[1], SR), ys[2]]
    assert_allclose(est.transform(mixed), est.transform(ys), rtol=1e-5, atol=1e-6)
    # threads: worker processes would take most of the test's time to start
    with parallel_config(backend="threading"):
        assert_allclose(cls(sr=SR, n_jobs=2, **params).fit(ys).transform(mixed),
                        est.transform(ys), rtol=1e-5, atol=1e-6)


def test_streamed_clip_errors_name_the_clip():
    """Check NaN samples, another rate and an extractor without streaming raise clearly."""
    y = _speechlike(SR, 0)
    y[9000] = np.nan
    est = MelFeatures(sr=SR).fit([y[:100]])
    with pytest.raises(ValueError, match=r"NaN: clip 'bad.wav' at sample 9000.*MelFeatures"):
        est.transform([StreamedClip.from_array(y, SR, name="bad.wav")])
    with pytest.raises(ValueError, match=r"clip 0 \(x.wav\) is streamed at 8000 Hz.*16000"):
        est.transform([StreamedClip.from_array(y[:8000], 8000, name="x.wav")])

    with pytest.raises(ValueError, match="NoStream cannot read a streamed"):
        NoStream(sr=SR).fit([StreamedClip.from_array(y[:8000], SR)])


class NoStream(ClipFeaturesMixin, BaseEstimator):
    """An extractor that reads clips whole only (no _extract_stream)."""

    _parameter_constraints: dict = {}

    def __init__(self, sr=None, n_jobs=None, verbose=0):
        self.sr, self.n_jobs, self.verbose = sr, n_jobs, verbose

    def _feature_names(self):
        return ["length"]

    def _extract_block(self, Y):
        return np.full((len(Y), 1), Y.shape[-1], dtype=float)


def test_fit_follows_the_streamed_clips_rate():
    """Check sr=None takes the rate the streamed clips carry."""
    clip = StreamedClip.from_array(_speechlike(8000, 1), 8000)
    assert TemporalFeatures().fit([clip]).sr_ == 8000


def _peak_bytes(est, clip):
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = est.transform([clip])
        return tracemalloc.get_traced_memory()[1], row
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("cls", sorted({c for c, _ in EXTRACTORS}, key=lambda c: c.__name__))
def test_memory_is_set_by_the_block_not_the_clip(cls):
    """Check the peak memory of a streamed clip does not grow with its length.

    Clips of 30 s and 2 minutes, generated block by block (never whole), through the
    extractor with its default parameters: the 90 extra seconds (5.8 MB of float32
    samples) may add at most a tenth of that (the per-frame series some extractors
    keep, one value per hop), and the peak stays under 16 MB (a piece's working set).
    """
    est = cls(sr=SR).fit([np.zeros(SR, np.float32)])
    _peak_bytes(est, StreamedClip(_Tone(SR), sr=SR, n_samples=SR))  # caches filled
    peaks = {}
    for seconds in (30, 120):
        n = seconds * SR
        peaks[seconds], row = _peak_bytes(est, StreamedClip(_Tone(n), sr=SR, n_samples=n))
        assert np.isfinite(row).all()
    extra = 90 * SR * 4
    assert peaks[120] - peaks[30] < extra / 10, peaks
    assert peaks[120] < 16e6, peaks


class _Tone:
    """A 150 Hz tone with pauses, ``n`` samples, generated block by block."""

    def __init__(self, n):
        self.n = n

    def __call__(self, block_size):
        step = min(block_size, 1 << 16)
        for a in range(0, self.n, step):
            t = np.arange(a, min(self.n, a + step)) / SR
            gate = np.sin(2 * np.pi * 0.5 * t) > 0
            yield (0.3 * np.sin(2 * np.pi * 150 * t) * gate).astype(np.float32)
