"""Numbers for the functional augmentations: SNR, noise colour, pitch, stretch, shift, gain."""

import re

import librosa
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.signal import welch

from sklaudio.augment import (
    add_noise,
    apply_gain,
    colored_noise,
    pitch_shift,
    time_shift,
    time_stretch,
    trim_silence,
)
from sklaudio.exceptions import ParameterError
from sklaudio.utils import ClipArray
from tests.conftest import harmonic

SR = 16000


def _snr(y, z):
    y = y.astype(np.float64)
    return 10 * np.log10(np.mean(y**2) / np.mean((z.astype(np.float64) - y) ** 2))


@pytest.mark.parametrize("noise", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr_db", [-5.0, 3.0, 20.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_noise_reaches_requested_snr(noise, snr_db, dtype):
    """Check that the measured SNR of the output is within 0.5 dB of the request."""
    y = harmonic(220.0, sr=SR, duration=0.5).astype(dtype)
    z = add_noise(y, sr=SR, snr_db=snr_db, noise=noise, random_state=0)
    assert z.dtype == dtype and z.shape == y.shape
    assert abs(_snr(y, z) - snr_db) < 0.5


def test_add_noise_with_a_recorded_noise_clip_and_per_row_snr():
    """Check a user noise clip (shorter than y, so looped) and a matrix with one SNR per row."""
    rng = np.random.default_rng(1)
    noise_clip = rng.uniform(-1, 1, 3000)
    Y = np.stack([harmonic(200.0, sr=SR, duration=0.5), 0.1 * harmonic(300.0, sr=SR, duration=0.5)])
    Z = add_noise(Y, sr=SR, snr_db=6.0, noise=noise_clip, random_state=0)
    for y, z in zip(Y, Z):
        assert abs(_snr(y, z) - 6.0) < 0.5
        # the added noise is an excerpt of the recording (mean removed, scaled)
        d = z - y
        corr = np.corrcoef(d[:2000], np.tile(noise_clip, 4)[: len(d)][:2000])[0, 1]
        assert np.isfinite(corr)


def test_add_noise_is_reproducible_and_seed_dependent():
    """Check that a fixed random_state gives identical noise and another seed differs."""
    y = harmonic(220.0, sr=SR, duration=0.2)
    a = add_noise(y, sr=SR, snr_db=10.0, random_state=3)
    b = add_noise(y, sr=SR, snr_db=10.0, random_state=3)
    c = add_noise(y, sr=SR, snr_db=10.0, random_state=4)
    assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_add_noise_leaves_silence_silent():
    """Check the documented behaviour for a silent clip: no noise (SNR undefined)."""
    assert_array_equal(add_noise(np.zeros(100), sr=SR, snr_db=10.0, random_state=0), 0.0)


@pytest.mark.parametrize("color, slope", [("white", 0.0), ("pink", -3.01), ("brown", -6.02)])
def test_noise_colour_has_the_spectral_slope(color, slope):
    """Check the PSD slope per octave: white 0 dB, pink -3 dB, brown -6 dB (within 0.3 dB)."""
    n = colored_noise(2**17, color=color, random_state=0)
    f, pxx = welch(n, fs=SR, nperseg=4096)
    band = (f >= 50) & (f <= 6000)
    fitted = np.polyfit(np.log2(f[band]), 10 * np.log10(pxx[band]), 1)[0]
    assert abs(fitted - slope) < 0.3
    assert_allclose(np.mean(n**2), 1.0, rtol=1e-10)


@pytest.mark.parametrize("n_steps", [-4.0, -1.0, 2.0, 5.0])
def test_pitch_shift_moves_f0_by_the_semitones(n_steps):
    """Check that f0 of a harmonic tone moves by 2**(n_steps/12) within 1 %, length kept."""
    f0 = 220.0
    y = harmonic(f0, sr=SR, duration=1.0).astype(np.float32)
    z = pitch_shift(y, sr=SR, n_steps=n_steps)
    assert z.shape == y.shape and z.dtype == np.float32
    est = librosa.yin(z[2048:-2048], fmin=80, fmax=1000, sr=SR, frame_length=2048)
    expected = f0 * 2 ** (n_steps / 12)
    assert abs(np.median(est) / expected - 1) < 0.01


@pytest.mark.parametrize("rate", [0.7, 0.9, 1.2, 1.5])
def test_time_stretch_changes_duration_and_timing_by_the_rate(rate):
    """Check length n/rate and that tone-burst onsets move to t/rate (pitch unchanged)."""
    n = SR * 2
    t = np.arange(n) / SR
    onsets = np.array([0.25, 0.8, 1.4])
    y = np.zeros(n)
    for o in onsets:
        burst = (t >= o) & (t < o + 0.15)
        y[burst] = np.sin(2 * np.pi * 500 * t[burst])
    z = time_stretch(y, rate=rate)
    assert z.shape == (round(n / rate),)
    # energy centroid of each burst (the phase vocoder smears edges, not centres)
    tz = np.arange(len(z)) / SR
    edges = np.r_[0.0, [0.6, 1.15] / np.float64(rate), np.inf]
    centres = [
        np.sum(tz[m] * z[m] ** 2) / np.sum(z[m] ** 2)
        for m in ((tz >= a) & (tz < b) for a, b in zip(edges[:-1], edges[1:]))
    ]
    # the phase vocoder places frames to within about one hop (512 samples = 32 ms)
    assert_allclose(centres, (onsets + 0.075) / rate, atol=0.05)
    assert abs((centres[2] - centres[0]) / ((onsets[2] - onsets[0]) / rate) - 1) < 0.05
    spec = np.abs(np.fft.rfft(z))
    assert abs(np.argmax(spec) * SR / len(z) - 500) < 5
    kept = time_stretch(y.astype(np.float32), rate=rate, keep_length=True)
    assert kept.shape == (n,) and kept.dtype == np.float32


def test_time_shift_roll_keeps_every_sample_and_pad_fills_zeros():
    """Check roll == np.roll (both directions) and pad's zeros on the documented side."""
    y = np.arange(1, 11, dtype=np.float32)
    assert_array_equal(time_shift(y, sr=10, shift=0.3), np.roll(y, 3))
    assert_array_equal(time_shift(y, sr=10, shift=-0.3), np.roll(y, -3))
    right = time_shift(y, sr=10, shift=0.3, mode="pad")
    assert_array_equal(right, np.r_[0, 0, 0, y[:7]])
    left = time_shift(y, sr=10, shift=-0.3, mode="pad")
    assert_array_equal(left, np.r_[y[3:], 0, 0, 0])
    assert right.dtype == np.float32
    assert_array_equal(time_shift(y, sr=10, shift=5.0, mode="pad"), 0.0)


@pytest.mark.parametrize("gain_db", [-12.0, -0.5, 3.0, 20.0])
def test_apply_gain_is_exact_in_db(gain_db):
    """Check 20*log10(rms_out / rms_in) equals the requested gain."""
    y = harmonic(150.0, sr=SR, duration=0.1).astype(np.float32)
    z = apply_gain(y, gain_db=gain_db)
    assert z.dtype == np.float32
    measured = 20 * np.log10(np.sqrt(np.mean(z.astype(float) ** 2) / np.mean(y.astype(float) ** 2)))
    assert_allclose(measured, gain_db, atol=1e-4)


def test_trim_silence_cuts_edges_and_keeps_all_silent_clips():
    """Check that leading/trailing silence goes, the sound stays, silence alone stays whole."""
    tone = harmonic(300.0, sr=SR, duration=0.5)
    y = np.concatenate([np.zeros(SR), tone, np.zeros(SR)]).astype(np.float32)
    z = trim_silence(y)
    assert z.dtype == np.float32
    assert len(tone) <= len(z) < len(tone) + 2 * 2048 + 1
    assert_allclose(np.sum(z.astype(float) ** 2), np.sum(tone**2), rtol=1e-4)
    assert len(trim_silence(np.zeros(5000))) == 5000


def test_functions_carry_sr_and_check_it():
    """Check that a ClipArray keeps its sr and that a different sr raises."""
    X = ClipArray(np.stack([harmonic(200.0, sr=SR, duration=0.2)] * 2), SR)
    out = add_noise(X, snr_db=10.0, random_state=0)
    assert isinstance(out, ClipArray) and out.sr == SR
    assert time_shift(X, shift=0.01).sr == SR
    with pytest.raises(ParameterError, match="carry sr=16000"):
        time_shift(X, sr=22050, shift=0.01)
    noise = ClipArray(np.ones((1, 500)), 8000)[0]
    with pytest.raises(ParameterError, match="noise clip carries sr=8000"):
        add_noise(X, snr_db=10.0, noise=noise)


@pytest.mark.parametrize("n_steps", [-3.0, 2.0, 4.0])
@pytest.mark.parametrize("n_samples", [1200, 1800])
def test_pitch_shift_of_a_short_clip_moves_f0_by_the_semitones(n_steps, n_samples):
    """Check f0 of a short (< 2048 samples) harmonic tone at 8 kHz within 1 %, length kept.

    Shorter than the default FFT, the clip goes through a 256-point vocoder; f0 is
    read from the peak of a zero-padded spectrum (resolution 0.12 Hz).
    """
    sr, f0 = 8000, 200.0
    y = harmonic(f0, sr=sr, duration=n_samples / sr, n_harmonics=4).astype(np.float32)
    z = pitch_shift(y, sr=sr, n_steps=n_steps)
    assert z.shape == y.shape and z.dtype == np.float32
    core = z[256:-256].astype(np.float64)  # the vocoder's edges ramp in and out
    spec = np.abs(np.fft.rfft(core * np.hanning(len(core)), n=1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1 / sr)
    band = (freqs > 100) & (freqs < 400)  # the fundamental, below the 2nd harmonic
    expected = f0 * 2 ** (n_steps / 12)
    assert abs(freqs[band][np.argmax(spec[band])] / expected - 1) < 0.01


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_of_a_short_clip_changes_duration_by_the_rate(rate):
    """Check a 0.2 s clip at 8 kHz: length n/rate, the burst's centre at t/rate, pitch kept."""
    sr, n = 8000, 1600
    t = np.arange(n) / sr
    y = np.where((t >= 0.05) & (t < 0.1), np.sin(2 * np.pi * 400 * t), 0.0)
    z = time_stretch(y, rate=rate)
    assert z.shape == (round(n / rate),)
    tz = np.arange(len(z)) / sr
    centre = np.sum(tz * z**2) / np.sum(z**2)
    # a 256-point vocoder with a 64-sample hop (8 ms): centres land within ~a hop
    assert abs(centre - 0.075 / rate) < 0.008
    spec = np.abs(np.fft.rfft(z, n=1 << 15))
    assert abs(np.argmax(spec) * sr / (1 << 15) - 400) < 8


def test_short_clips_use_a_smaller_fft():
    """Check the vocoder's FFT for short clips, and an explicit n_fft on a long one."""
    from sklaudio.augment._functional import _vocoder_n_fft

    assert [_vocoder_n_fft(n) for n in (64, 300, 1600, 4095, 8191, 8192, 90000)] == [
        64, 64, 256, 512, 1024, 2048, 2048,
    ]
    assert _vocoder_n_fft(9000, 512) == 512 and _vocoder_n_fft(1600, 128) == 128
    y = harmonic(300.0, sr=16000, duration=0.6)  # 9600 samples: 2048 by default
    a, b = time_stretch(y, rate=1.1), time_stretch(y, rate=1.1, n_fft=512)
    assert a.shape == b.shape and not np.allclose(a, b)
    expected = librosa.effects.time_stretch(y, rate=1.1, n_fft=512, hop_length=128)
    assert_allclose(b, librosa.util.fix_length(expected, size=len(b)), atol=1e-6)


def test_short_clips_raise_a_clear_error():
    """Check that pitch_shift and time_stretch name the minimum length (64 samples)."""
    for func, kw in [(pitch_shift, dict(sr=SR, n_steps=1.0)), (time_stretch, dict(rate=1.1))]:
        with pytest.raises(ParameterError, match=re.escape("at least 64 samples; got 63")):
            func(np.zeros(63), **kw)
        assert func(np.zeros(64), **kw).shape[0] > 0


def test_invalid_parameters_are_rejected():
    """Check sklearn-style parameter errors and the ragged-input hint."""
    with pytest.raises(ValueError, match="'rate' parameter of time_stretch"):
        time_stretch(np.zeros(4096), rate=-1.0)
    with pytest.raises(ValueError, match="'noise' parameter of add_noise"):
        add_noise(np.zeros(10), snr_db=1.0, noise="purple")
    ragged = ClipArray([np.zeros(3), np.zeros(5)], SR)
    with pytest.raises(TypeError, match="AudioAugmenter"):
        apply_gain(ragged, gain_db=1.0)
    with pytest.raises(ValueError, match="NaN"):
        apply_gain(np.array([0.0, np.nan]), gain_db=1.0)
