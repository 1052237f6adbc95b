"""Tests of TemporalFeatures against closed forms and librosa."""

import librosa
import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklaudio.features import TemporalFeatures


def _row(est, y):
    return dict(zip(est.get_feature_names_out(), est.transform([y])[0].tolist()))


def _clicks(sr, n_clicks, period):
    y = np.zeros(int((n_clicks * period + 0.3) * sr))
    y[(np.arange(n_clicks) * period * sr).astype(int) + sr // 10] = 1.0
    return y


@pytest.mark.parametrize("n_clicks, period", [(7, 0.4), (12, 0.25)])
def test_click_train_onset_count_is_exact(n_clicks, period):
    """Check the onset count of a click train is the number of clicks, as librosa finds."""
    sr = 22050
    y = _clicks(sr, n_clicks, period)
    est = TemporalFeatures(sr=sr).fit([y])
    f = _row(est, y)
    assert f["onset_count"] == n_clicks
    assert f["onset_count"] == len(librosa.onset.onset_detect(y=y, sr=sr))
    assert f["onset_rate"] == pytest.approx(n_clicks / (y.size / sr))
    assert f["tempo_bpm"] == pytest.approx(librosa.feature.tempo(y=y, sr=sr)[0])


def test_sine_rms_and_zero_crossing_rate_closed_forms():
    """Check RMS of a sine is A/sqrt(2) and its zero-crossing rate is 2 f / sr."""
    sr, A, f0, n_fft = 16000, 0.6, 250.0, 2048  # 32 periods per frame exactly
    t = np.arange(2 * sr) / sr
    y = A * np.sin(2 * np.pi * f0 * t + 0.3)  # phase: no sample lands exactly on zero
    est = TemporalFeatures(sr=sr, n_fft=n_fft, center=False, stats=("mean", "std")).fit([y])
    f = _row(est, y)
    assert f["rms_mean"] == pytest.approx(A / np.sqrt(2), rel=1e-6)
    assert f["rms_std"] == pytest.approx(0.0, abs=1e-6)
    assert f["zcr_mean"] == pytest.approx(2 * f0 / sr, abs=1 / n_fft)
    assert f["silence_fraction"] == 0.0


def test_onset_count_follows_librosa_at_16k():
    """Check onset_detect semantics at 16 kHz too, where librosa splits some clicks."""
    sr = 16000
    y = _clicks(sr, 12, 0.25)
    est = TemporalFeatures(sr=sr).fit([y])
    assert _row(est, y)["onset_count"] == len(librosa.onset.onset_detect(y=y, sr=sr))


def test_rms_and_zcr_statistics_equal_librosa():
    """Check the default (centred) RMS and ZCR statistics against librosa's curves."""
    rng = np.random.default_rng(3)
    y = rng.standard_normal(30000) * np.linspace(0, 1, 30000)
    est = TemporalFeatures(sr=22050, percentiles=(10, 90)).fit([y])
    f = _row(est, y)
    rms = librosa.feature.rms(y=y)[0]
    zcr = librosa.feature.zero_crossing_rate(y)[0]
    assert_allclose([f["rms_mean"], f["rms_std"], f["rms_p10"], f["rms_p90"]],
                    [rms.mean(), rms.std(), *np.percentile(rms, [10, 90])], rtol=1e-6)
    assert_allclose([f["zcr_mean"], f["zcr_std"], f["zcr_p90"]],
                    [zcr.mean(), zcr.std(), np.percentile(zcr, 90)], rtol=1e-6)


def test_duration_exact_and_order_kept_for_ragged_clips():
    """Check duration_s is the exact length in seconds, in input order."""
    sr = 8000
    lengths = [8000, 1, 12345, 2047]
    clips = [np.full(n, 0.1) for n in lengths]
    est = TemporalFeatures(sr=sr).fit(clips)
    col = list(est.get_feature_names_out()).index("duration_s")
    assert_allclose(est.transform(clips)[:, col], np.array(lengths) / sr, rtol=0, atol=0)


def test_silence_fraction():
    """Check silence_fraction counts frames far below the loudest one; 1 for a silent clip."""
    sr = 16000
    t = np.arange(sr) / sr
    y = np.concatenate([np.zeros(sr), 0.5 * np.sin(2 * np.pi * 300 * t)])
    est = TemporalFeatures(sr=sr, center=False).fit([y])
    # frames overlapping the tone are not silent: (len - n_fft) // hop + 1 frames in total
    n_frames = 1 + (y.size - 2048) // 512
    silent = 1 + (sr - 2048) // 512
    assert _row(est, y)["silence_fraction"] == pytest.approx(silent / n_frames)
    assert _row(est, np.zeros(5000))["silence_fraction"] == 1.0


def test_onset_count_equals_librosa_onset_detect():
    """Check the numpy peak picker counts the onsets librosa.onset.onset_detect finds
    (default settings) on many envelopes: random, spiky, flat and with ties."""
    from sklaudio.features._temporal import _onset_count

    rng = np.random.default_rng(7)
    envs = [rng.random(n) for n in (1, 2, 5, 40, 300)]
    envs += [rng.exponential(size=200) ** 3 for _ in range(20)]  # sparse spikes
    envs += [np.zeros(50), np.ones(50), np.repeat(rng.random(30), 4)]  # flat and plateaus
    for sr, hop in [(22050, 512), (16000, 512), (16000, 160), (8000, 64)]:
        for env in envs:
            expected = len(librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=hop))
            assert _onset_count(env, sr, hop) == expected


@pytest.mark.parametrize("sr", [16000, 22050])
def test_onset_count_of_clips_equals_librosa(sr):
    """Check onset_count on noise bursts and clicks equals librosa's onset_detect on the
    same envelope."""
    rng = np.random.default_rng(sr)
    y = rng.standard_normal(2 * sr) * (rng.random(2 * sr) < 0.01)
    y += np.repeat(rng.random(20) > 0.5, sr // 10) * 0.1 * rng.standard_normal(2 * sr)
    est = TemporalFeatures(sr=sr).fit([y])
    env = librosa.onset.onset_strength(y=y, sr=sr)
    assert _row(est, y)["onset_count"] == len(
        librosa.onset.onset_detect(onset_envelope=env, sr=sr))


@pytest.mark.parametrize("bpm", [72, 100, 150])
def test_chunked_tempo_equals_librosa_tempo(bpm):
    """Check the tempo computed a few tempogram columns at a time is librosa's.

    The envelope (a noisy pulse train, 40 s) spans many chunks of columns.
    """
    from sklaudio.features._temporal import _TEMPO_COLUMNS, _tempo

    sr, hop = 22050, 512
    rng = np.random.default_rng(bpm)
    n = int(40 * sr / hop)
    assert n > 5 * _TEMPO_COLUMNS
    env = (0.2 * rng.random(n)).astype(np.float32)
    env[(np.arange(0, 40, 60 / bpm) * sr / hop).astype(int)] += 1.0
    want = librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=hop)[0]
    assert _tempo(env, sr, hop) == pytest.approx(want, rel=1e-9)
    assert abs(want - bpm) < 0.05 * bpm  # a real pulse: the test would see a wrong lag
