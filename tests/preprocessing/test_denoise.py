"""Tests of the spectral-gating Denoiser against closed forms and noisereduce."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal

from sklaudio.exceptions import ParameterError
from sklaudio.preprocessing import Denoiser
from sklaudio.utils import ClipArray
from tests.conftest import require_data

SR = 16000


def _snr(clean, est):
    clean = np.asarray(clean, dtype=np.float64)
    return 10 * np.log10(np.sum(clean**2) / np.sum((np.asarray(est, np.float64) - clean) ** 2))


def _pink(n, rng):
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[1:] /= np.sqrt(np.arange(1, len(spec)))
    spec[0] = 0
    return np.fft.irfft(spec, n=n)


def _mix(clean, noise, snr_db):
    gain = np.sqrt(np.sum(clean**2) / (np.sum(noise**2) * 10 ** (snr_db / 10)))
    return (clean + gain * noise).astype(np.float32)


@pytest.fixture
def tone_in_noise(rng):
    t = np.arange(SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
    noise = 0.05 * rng.standard_normal(SR)
    noise_only = 0.05 * rng.standard_normal(SR)
    return tone, noise, noise_only


def test_stationary_tone_survives_and_noise_drops(tone_in_noise):
    """Check a pure tone in white noise: the tone keeps its level within 1 dB and the
    noise power away from the tone (outside the mask-smoothing width) drops by at least
    10 dB (bins of noise above mean + 1.5 std of its dB level, ~8% of them, pass)."""
    tone, noise, noise_only = tone_in_noise
    den = Denoiser(sr=SR, method="stationary", y_noise=noise_only)
    out = den.transform((tone + noise)[np.newaxis])[0]
    spec_in = np.abs(np.fft.rfft(tone + noise)) ** 2
    spec_out = np.abs(np.fft.rfft(out)) ** 2
    band = slice(1000 - 20, 1000 + 21)  # 1 Hz bins over 1 s: the tone is bin 1000
    tone_in = (np.abs(np.fft.rfft(tone))[band] ** 2).sum()
    tone_level = 10 * np.log10(spec_out[band].sum() / tone_in)
    assert abs(tone_level) < 1.0
    rest = np.ones(len(spec_in), bool)
    rest[1000 - 300 : 1000 + 301] = False
    assert 10 * np.log10(spec_in[rest].sum() / spec_out[rest].sum()) > 10


def test_nonstationary_keeps_tone_bursts(tone_in_noise):
    """Check the default (non-stationary) gate on tone bursts in noise raises the SNR."""
    tone, noise, _ = tone_in_noise
    t = np.arange(SR) / SR
    bursts = np.tile(tone * (np.sin(2 * np.pi * 1.5 * t) > 0), 2)
    noisy = bursts + np.tile(noise, 2)
    out = Denoiser(sr=SR).transform(noisy[np.newaxis])[0]
    assert _snr(bursts, out) > _snr(bursts, noisy) + 3


def test_prop_decrease_zero_is_identity(tone_in_noise):
    """Check prop_decrease=0 returns the input exactly, for both forms."""
    tone, noise, _ = tone_in_noise
    X = np.stack([tone + noise, noise]).astype(np.float32)
    assert_array_equal(Denoiser(sr=SR, prop_decrease=0).transform(X), X)
    out = Denoiser(sr=SR, prop_decrease=0).transform([X[0], X[1, :500]])
    assert_array_equal(out[1], X[1, :500])


def test_prop_decrease_interpolates(tone_in_noise):
    """Check a half prop_decrease lands between the input and the full gate (linear mask)."""
    tone, noise, _ = tone_in_noise
    x = (tone + noise)[np.newaxis]
    full = Denoiser(sr=SR).transform(x)
    half = Denoiser(sr=SR, prop_decrease=0.5).transform(x)
    assert_allclose(half, 0.5 * (x + full), atol=1e-6)


def test_matrix_batch_equals_per_clip(rng):
    """Check the batched matrix path gives the same clips as one clip at a time."""
    X = rng.standard_normal((3, 5000))
    X[1, 2000:3000] += np.sin(np.arange(1000))
    den = Denoiser(sr=8000)
    batch = den.transform(X)
    for i in range(3):
        assert_allclose(batch[i], den.transform([X[i]])[0], atol=1e-10)


def test_ragged_keeps_order_lengths_and_dtype(rng):
    """Check ragged clips come back in order, with their lengths, and float32 stays float32."""
    clips = [rng.standard_normal(n).astype(np.float32) for n in (3000, 10, 1500, 1024)]
    out = Denoiser(sr=SR).fit_transform(ClipArray(clips, sr=SR))
    assert out.sr == SR and out.is_ragged
    assert [len(c) for c in out] == [3000, 10, 1500, 1024]
    assert all(c.dtype == np.float32 for c in out)
    assert_allclose(out[2], Denoiser(sr=SR).transform([clips[2]])[0], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_dtype_and_length(rng, dtype):
    """Check output length equals input to the sample and dtype is preserved."""
    X = rng.standard_normal((2, 1234)).astype(dtype)
    out = Denoiser(sr=SR).transform(X)
    assert out.shape == X.shape and out.dtype == dtype


def test_all_zero_and_short_clips():
    """Check an all-zero clip gives zeros and a clip shorter than n_fft keeps its length."""
    out = Denoiser(sr=SR).transform([np.zeros(2000), np.zeros(5), 0.1 * np.ones(7)])
    assert_array_equal(out[0], 0)
    assert_array_equal(out[1], 0)
    assert len(out[2]) == 7 and np.isfinite(out[2]).all()


def test_int16_is_scaled(rng):
    """Check int16 PCM is scaled to float32 in [-1, 1] before gating."""
    y = (rng.standard_normal(4000) * 3000).astype(np.int16)
    out = Denoiser(sr=SR, prop_decrease=0).transform(y[np.newaxis])
    assert out.dtype == np.float32
    assert_allclose(out[0], y / 32768.0, rtol=1e-6)


def test_sr_mismatch_names_both():
    """Check a ClipArray at 16 kHz into Denoiser(sr=8000) raises naming both rates."""
    X = ClipArray(np.zeros((1, 100)), sr=16000)
    with pytest.raises(ParameterError, match=r"sr=8000.*sr=16000"):
        Denoiser(sr=8000).transform(X)
    noise = ClipArray([np.zeros(100)], sr=8000)[0]
    with pytest.raises(ValueError, match="y_noise"):
        Denoiser(method="stationary", y_noise=np.zeros((2, 100))).transform(X)
    assert noise.shape == (100,)


@pytest.mark.parametrize(
    "X, err, msg",
    [
        ([], ValueError, "0 sample"),
        ([np.zeros(10), np.zeros(0)], ValueError, "clip 1 has 0 samples"),
        ([np.zeros(10), np.r_[0.0, np.nan]], ValueError, "clip 1 at sample 1"),
        (np.r_[[[0.0, np.inf]]], ValueError, "clip 0 at sample 1"),
        (np.zeros((2, 2, 10)), ValueError, "dim 3"),
    ],
)
def test_bad_input(X, err, msg):
    """Check bad input raises a clear error naming the clip."""
    with pytest.raises(err, match=re.escape(msg)):
        Denoiser(sr=SR).fit_transform(X)


def test_bad_frame_settings():
    """Check win_length > n_fft and hop_length > win_length are refused with the values."""
    with pytest.raises(ParameterError, match="win_length=2048 > n_fft=1024"):
        Denoiser(win_length=2048).fit(np.zeros((1, 10)))
    with pytest.raises(ParameterError, match="hop_length=600 > win_length=512"):
        Denoiser(win_length=512, hop_length=600).fit(np.zeros((1, 10)))


def test_pickle_round_trip(rng):
    """Check a pickled Denoiser gives the same output."""
    X = rng.standard_normal((2, 3000))
    den = Denoiser(sr=SR, method="stationary").fit(X)
    again = pickle.loads(pickle.dumps(den))
    assert_array_equal(again.transform(X), den.transform(X))


def test_n_jobs_matches_serial(rng):
    """Check parallel clips give the serial result in the same order."""
    clips = [rng.standard_normal(n) for n in (2000, 3000, 2500)]
    a = Denoiser(sr=SR).transform(clips)
    b = Denoiser(sr=SR, n_jobs=2).transform(clips)
    for x, y in zip(a, b):
        assert_array_equal(x, y)


def test_real_speech_beats_noisereduce():
    """Check on real LibriSpeech clips mixed with white and pink noise at 0, 5, 10 dB that
    the SNR gain is at least noisereduce's - 1 dB on every clip, and that clean speech
    keeps its level within 1 dB (median clip)."""
    noisereduce = pytest.importorskip("noisereduce")
    folder = require_data("librispeech-251")
    manifest = pd.read_csv(folder / "manifest.csv")
    names = manifest.sort_values("duration_s")["path"].iloc[[20, 60, 100]]
    clean = [sf.read(folder / n, dtype="float32")[0][: 4 * SR] for n in names]
    rng = np.random.default_rng(0)
    den = Denoiser(sr=SR)
    for make in (lambda n: rng.standard_normal(n), lambda n: _pink(n, rng)):
        for snr_in in (0, 5, 10):
            mixed = [_mix(c, make(len(c)), snr_in) for c in clean]
            ours = den.transform(mixed)
            for c, m, o in zip(clean, mixed, ours):
                ref = noisereduce.reduce_noise(y=m, sr=SR, stationary=False)
                assert _snr(c, o) - snr_in >= _snr(c, ref) - snr_in - 1.0
    levels = [10 * np.log10(np.sum(o.astype(np.float64) ** 2) / np.sum(c.astype(np.float64) ** 2))
              for c, o in zip(clean, den.transform(clean))]
    # the median clip keeps its level; the first of these three (a recording with a
    # noticeable noise floor) loses about 1.8 dB, reported in the benchmark
    assert abs(np.median(levels)) < 1.0
    assert min(levels) > -3.0


def test_pipeline_pandas_output(rng):
    """Check set_output(transform="pandas") gives a DataFrame carrying sr."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = Pipeline([("den", Denoiser(sr=SR)), ("abs", FunctionTransformer(np.abs,
                     feature_names_out="one-to-one"))]).set_output(transform="pandas")
    out = pipe.fit_transform(rng.standard_normal((2, 300)))
    assert isinstance(out, pd.DataFrame) and out.shape == (2, 300)


def test_stationary_flag_is_deprecated_for_method(rng):
    """Check Denoiser(stationary=...) warns naming method and equals the matching method;
    a contradicting pair raises."""
    X = (0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
         + 0.05 * rng.standard_normal(SR))[np.newaxis]
    for flag, method in [(True, "stationary"), (False, "nonstationary")]:
        with pytest.warns(FutureWarning, match=f"use Denoiser\\(method='{method}'\\)"):
            old = Denoiser(sr=SR, stationary=flag).fit_transform(X)
        np.testing.assert_array_equal(old, Denoiser(sr=SR, method=method).fit_transform(X))
    stationary = Denoiser(sr=SR, method="stationary").fit_transform(X)
    assert not np.array_equal(stationary, Denoiser(sr=SR).fit_transform(X))
    with pytest.raises(ValueError, match="disagree"):
        Denoiser(sr=SR, method="stationary", stationary=False).fit(X)
