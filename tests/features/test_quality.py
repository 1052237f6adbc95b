"""Tests of per-clip quality (assess_quality, AudioQuality, abstain) and the extractors' warning."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklaudio.exceptions import AudioQualityWarning, AudioWarning
from sklaudio.features import (
    AudioQuality,
    F0Stats,
    FormantFeatures,
    MelCodebook,
    MelFeatures,
    TemporalFeatures,
    abstain,
    assess_quality,
)
from sklaudio.features._quality import QUALITY_FLAGS
from sklaudio.utils import ClipArray
from tests.conftest import harmonic, require_data

SR = 16000


def _quality_warnings(record):
    return [w for w in record if issubclass(w.category, AudioQualityWarning)]


def _bad_clips(speechlike):
    voice = speechlike(sr=SR, duration=1.0)
    faint = 1e-4 * np.random.default_rng(0).standard_normal(SR)  # -80 dBFS hiss
    return [voice, faint, np.zeros(SR), np.array([0.3]), voice[:800]]


def test_flags_of_silent_zero_and_short_clips(speechlike):
    """Check the flag of a faint, an all-zero, a 1-sample and a 50 ms clip; a voice is ok."""
    q = assess_quality(_bad_clips(speechlike), sr=SR)
    assert q["quality"].tolist() == ["ok", "silent", "silent", "too_short", "too_short"]
    assert list(q.columns) == ["duration_s", "rms_dbfs", "peak_dbfs", "clipping_rate", "snr_db",
                               "voiced_fraction", "quality"]
    assert q["duration_s"].tolist() == [1.0, 1.0, 1.0, 1 / SR, 0.05]
    # digital silence is the documented floor, not -inf
    assert q.loc[2, "rms_dbfs"] == q.loc[2, "peak_dbfs"] == -120.0
    assert q.loc[3, "peak_dbfs"] == pytest.approx(20 * np.log10(0.3))


@pytest.mark.parametrize("f0", [110.0, 220.0, 400.0])
def test_voiced_synthetic_clips_are_ok(speechlike, f0):
    """Check speech-like pulse trains and harmonic tones over the pitch range are 'ok'."""
    clips = [speechlike(f0=f0, sr=SR, duration=1.0), harmonic(f0, sr=SR, duration=1.0)]
    q = assess_quality(clips, sr=SR)
    assert q["quality"].tolist() == ["ok", "ok"]
    assert (q["voiced_fraction"] > 0.95).all()


def test_noise_alone_has_no_voice(rng):
    """Check white noise and pink noise (1/f power) have no voiced frame."""
    white = 0.1 * rng.standard_normal(2 * SR)
    spec = np.fft.rfft(rng.standard_normal(2 * SR))
    pink = np.fft.irfft(spec / np.sqrt(np.arange(1, len(spec) + 1)), n=2 * SR)
    pink *= 0.3 / np.abs(pink).max()
    q = assess_quality([white, pink], sr=SR)
    assert q["quality"].tolist() == ["no_voice", "no_voice"]
    assert (q["voiced_fraction"] < 0.03).all()


def _tone_with_gaps(rng, snr_db, sr=SR):
    """A 200 Hz tone on 0.3 s, off 0.3 s, in white noise at snr_db (tone power / noise power)."""
    n = 3 * sr
    t = np.arange(n) / sr
    on = (t % 0.6) < 0.3
    amp = 0.5
    tone = amp * np.sin(2 * np.pi * 200 * t) * on
    sigma = np.sqrt(amp**2 / 2 / 10 ** (snr_db / 10))
    return tone + sigma * rng.standard_normal(n), on


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_snr_estimate_is_close_to_the_mixing_snr(rng, snr_db):
    """Check the SNR estimate of a gated tone in white noise is within 1.5 dB of the truth."""
    y, _ = _tone_with_gaps(rng, snr_db)
    q = assess_quality([y], sr=SR)
    assert q.loc[0, "snr_db"] == pytest.approx(snr_db, abs=1.5)


def test_voiced_fraction_follows_the_gates(rng):
    """Check the voiced fraction of a half-on tone at 20 dB SNR is 1/2 within a frame per gate."""
    y, on = _tone_with_gaps(rng, 20.0)
    q = assess_quality([y], sr=SR)
    n_frames = 1 + (len(y) - 640) // 320
    assert q.loc[0, "voiced_fraction"] == pytest.approx(on.mean(), abs=10 / n_frames)
    assert q.loc[0, "quality"] == "ok"


def test_levels_and_clipping_closed_forms():
    """Check RMS, peak and clipping rate of a sine and of a sine clipped at full scale."""
    t = np.arange(SR) / SR
    sine = 0.25 * np.sin(2 * np.pi * 125 * t)  # 128 samples per period: whole periods
    clipped = np.clip(8 * sine, -1.0, 1.0)  # twice full scale, clipped
    q = assess_quality([sine, clipped], sr=SR)
    assert q.loc[0, "rms_dbfs"] == pytest.approx(20 * np.log10(0.25 / np.sqrt(2)), abs=1e-6)
    assert q.loc[0, "peak_dbfs"] == pytest.approx(20 * np.log10(0.25), abs=1e-4)
    assert q.loc[0, "clipping_rate"] == 0.0
    expected = 1 - 2 / np.pi * np.arcsin(0.999 / 2)  # share of a period where |2 sin| >= 0.999
    assert q.loc[1, "clipping_rate"] == pytest.approx(expected, abs=0.02)  # 128 samples a period


def test_audio_quality_is_finite_and_codes_the_flags(speechlike):
    """Check AudioQuality's rows are finite and equal assess_quality's, flags as codes."""
    clips = _bad_clips(speechlike)
    est = AudioQuality(sr=SR).fit(clips)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioQualityWarning)  # reporting is its job
        out = est.transform(clips)
    assert np.isfinite(out).all()
    q = assess_quality(clips, sr=SR)
    np.testing.assert_allclose(out[:, :-1], q.iloc[:, :-1].to_numpy(float))
    assert [QUALITY_FLAGS[int(c)] for c in out[:, -1]] == q["quality"].tolist()
    assert list(est.get_feature_names_out()) == list(q.columns)


def test_assess_quality_follows_the_carried_rate(speechlike):
    """Check the rate a ClipArray carries is used (0.05 s at 16 kHz, not at 22050)."""
    clip = speechlike(sr=SR, duration=0.05)
    q = assess_quality(ClipArray([clip], sr=SR))
    assert q.loc[0, "duration_s"] == 0.05


EXTRACTORS = [
    MelFeatures(sr=SR),
    TemporalFeatures(sr=SR),
    F0Stats(sr=SR),
    FormantFeatures(sr=SR),
    MelCodebook(sr=SR, n_codewords=2, random_state=0),
]


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_every_extractor_warns_once_naming_the_bad_clips(speechlike, est):
    """Check fit_transform and transform each raise one AudioQualityWarning naming the clips."""
    clips = _bad_clips(speechlike)
    for call in (lambda: est.fit_transform(clips), lambda: est.transform(clips)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call()
        found = _quality_warnings(record)
        assert len(found) == 1
        assert issubclass(found[0].category, AudioWarning)
        text = str(found[0].message)
        assert "4 of 5 clip(s)" in text
        for i, flag in [(1, "silent"), (2, "silent"), (3, "too_short"), (4, "too_short")]:
            assert f"clip {i} ({flag})" in text
        assert "clip 0" not in text


def test_no_warning_for_good_clips(speechlike):
    """Check voiced clips (a matrix and a list) transform without a quality warning."""
    X = np.stack([speechlike(f0=f, sr=SR) for f in (100.0, 180.0, 260.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioQualityWarning)
        MelFeatures(sr=SR).fit_transform(X)
        TemporalFeatures(sr=SR).fit_transform(list(X))


def test_warning_names_dataframe_rows(speechlike):
    """Check a DataFrame of clips has its bad rows named by their index labels."""
    X = pd.DataFrame(np.stack([speechlike(sr=SR), np.zeros(SR)]), index=["a.wav", "b.wav"])
    with pytest.warns(AudioQualityWarning, match=r"'b.wav' \(silent\)"):
        MelFeatures(sr=SR).fit_transform(X)


def test_abstain_probabilities_labels_and_frames():
    """Check abstain NaNs float rows, labels label rows, and keeps a DataFrame's index."""
    flags = ["ok", "silent", "no_voice"]
    proba = np.array([[0.9, 0.1], [1.0, 0.0], [0.2, 0.8]])
    out = abstain(proba, flags)
    np.testing.assert_array_equal(out[0], proba[0])
    assert np.isnan(out[1:]).all()
    assert not np.isnan(proba).any()  # a copy
    labels = abstain(np.array(["f", "m", "m"]), pd.DataFrame({"quality": flags}), label="?")
    assert labels.tolist() == ["f", "?", "?"]
    frame = pd.DataFrame(proba, index=[7, 8, 9], columns=["female", "male"])
    got = abstain(frame, np.array([0, 2, 0]))  # AudioQuality's codes
    assert list(got.index) == [7, 8, 9] and list(got.columns) == ["female", "male"]
    assert got.isna().sum(axis=1).tolist() == [0, 2, 0]


def test_abstain_refuses_mismatched_or_unknown_flags():
    """Check a flag count that differs from the predictions, or an unknown flag, raises."""
    with pytest.raises(ValueError, match="2 predictions but 3 quality flags"):
        abstain(np.zeros(2), ["ok", "ok", "ok"])
    with pytest.raises(ValueError, match="unknown quality flag"):
        abstain(np.zeros(2), ["ok", "bad"])
    with pytest.raises(ValueError, match="codes must be integers"):
        abstain(np.zeros(2), [0, 7])


def test_real_speech_is_ok():
    """Check a few real LibriSpeech recordings are all flagged 'ok' and mostly voiced."""
    from sklaudio.io import AudioLoader

    files = sorted(require_data("librispeech-251").glob("*.flac"))[:4]
    X = AudioLoader(sr=SR).fit_transform(files)
    q = assess_quality(X)
    assert q["quality"].tolist() == ["ok"] * 4
    assert (q["voiced_fraction"] > 0.3).all()


def _streamed(y, block=997):
    from sklaudio.utils._stream import StreamedClip

    class Blocks:  # odd block sizes: boundaries fall inside frames
        def __call__(self, block_size):
            for a in range(0, len(y), min(block, block_size)):
                yield y[a : a + min(block, block_size)]

    return StreamedClip(Blocks(), sr=SR, n_samples=len(y), dtype=np.asarray(y).dtype,
                        name="long.wav")


def test_streamed_clips_get_the_whole_clips_quality(speechlike, rng):
    """Check a streamed clip's measures and flag are those of the whole clip, every flag."""
    clips = _bad_clips(speechlike) + [0.1 * rng.standard_normal(SR)]  # ok ... no_voice
    whole = assess_quality(clips, sr=SR)
    streamed = assess_quality([_streamed(y) for y in clips], sr=SR)
    assert streamed["quality"].tolist() == whole["quality"].tolist() == [
        "ok", "silent", "silent", "too_short", "too_short", "no_voice"]
    num = list(whole.columns[:-1])
    np.testing.assert_allclose(streamed[num].to_numpy(float), whole[num].to_numpy(float),
                               rtol=1e-9, atol=1e-9)


def test_streamed_bad_clip_is_named_once_per_union(speechlike):
    """Check the quality warning names a streamed clip and its flag is read once per clip."""
    from sklaudio.features import _quality

    voice = speechlike(sr=SR, duration=1.0)
    clips = [voice, _streamed(np.zeros(2 * SR))]
    calls = []
    original = _quality._quick_code_stream
    try:
        _quality._quick_code_stream = lambda *a: calls.append(a) or original(*a)
        for est in (MelFeatures(sr=SR), TemporalFeatures(sr=SR)):
            with pytest.warns(AudioQualityWarning, match=r"1 of 2 clip\(s\).*clip 1 \(silent\)"):
                est.fit(clips).transform(clips)
    finally:
        _quality._quick_code_stream = original
    assert len(calls) == 1  # the second extractor reuses the flag of the same clip object


class _CountingBlocks:
    """Blocks of random sizes (1 sample to 1.5 s) that count how often the clip is read."""

    def __init__(self, y, seed):
        self.y, self.seed, self.reads = y, seed, 0

    def __call__(self, block_size):
        self.reads += 1
        rng = np.random.default_rng(self.seed)
        a = 0
        while a < len(self.y):
            n = min(int(rng.integers(1, 24_000)), block_size)
            yield self.y[a : a + n]
            a += n


def test_quick_check_of_a_long_clip_sees_the_whole_clips_frames(speechlike, rng):
    """Check the first pass, given random blocks, has the whole clip's frame powers and
    levels bit for bit, and the streamed flag is the whole clip's.

    Two and a half minutes: speech, then noise alone (the quick look fails, the full
    measure decides). Reads: levels and powers, voicing near the loudest frames, and
    the full measure for the noise; one fewer when an extractor's read gave the first.
    """
    from sklaudio.features import _quality as Q
    from sklaudio.utils._stream import StreamedClip

    length, hop = Q._frame_layout(SR)[:2]
    voice = np.tile(speechlike(sr=SR, duration=1.0), 150) + 0.01 * rng.standard_normal(
        150 * SR)
    for clip_y, reads in ((voice, 2), (0.01 * rng.standard_normal(150 * SR), 3)):
        source = _CountingBlocks(clip_y, seed=1)
        clip = StreamedClip(source, sr=SR, n_samples=len(clip_y), dtype=clip_y.dtype)
        check = Q._QuickCheck(clip.n_samples, SR)
        for block in source(1 << 20):
            check(block)
        assert check.complete()
        np.testing.assert_array_equal(check.power, Q._frame_power(clip_y, length, hop))
        assert check.levels.peak == np.max(np.abs(clip_y))
        for given, expected in ((None, reads), (check, reads - 1)):
            source.reads = 0
            assert Q._quick_code_stream(clip, SR, "test", given) == Q._quick_code(clip_y, SR)
            assert source.reads == expected
    assert Q._quick_code(voice, SR) == 0


def test_quality_check_of_a_streamed_clip_rides_on_the_extractors_read(speechlike, rng):
    """Check the warning's check of a streamed clip costs no read of its own.

    F0Stats reads a clip once; the check adds one read (the voicing of the loudest
    frames), not two: its first pass rides on F0Stats' read. A clip without voice is
    read once more (the full measure), and flagged. A second extractor on the same clip
    object reads it only for its own features.
    """
    from sklaudio.utils._stream import StreamedClip

    voice = np.tile(speechlike(sr=SR, duration=1.0), 70)
    noise = 0.01 * rng.standard_normal(70 * SR)
    reads = {}
    for name, y in (("voice", voice), ("noise", noise)):
        source = _CountingBlocks(y, seed=2)
        clip = StreamedClip(source, sr=SR, n_samples=len(y), dtype=y.dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            F0Stats(sr=SR).fit([clip]).transform([clip])
            first = source.reads
            TemporalFeatures(sr=SR).fit([clip]).transform([clip])
        reads[name] = (first, source.reads - first)
        flagged = [str(w.message) for w in caught if w.category is AudioQualityWarning]
        assert len(flagged) == (0 if name == "voice" else 2)
        assert all("clip 0 (no_voice)" in m for m in flagged)
    assert reads == {"voice": (2, 2), "noise": (3, 2)}


def test_voicing_in_blocks_of_frames_equals_all_frames_at_once(speechlike, rng, monkeypatch):
    """Check blocks of frames (kept in cache) give each frame's voicing and period bit for bit.

    A voice with a gap and noise, so voiced, unvoiced and boundary frames fall inside
    and across blocks, against the same frames in one block.
    """
    import sklaudio.features._quality as quality

    y = np.r_[speechlike(sr=SR, duration=1.3), 0.01 * rng.standard_normal(SR // 3),
              speechlike(sr=SR, duration=0.7)]
    length, hop, lag_min, lag_max = quality._frame_layout(SR)
    frames = quality._frames(y, length, hop)
    assert quality._VOICED_BLOCK < len(frames)
    by_default = quality._voiced(frames, lag_min, lag_max)
    monkeypatch.setattr(quality, "_VOICED_BLOCK", 9)  # 13 blocks, the last one short
    blocked = quality._voiced(frames, lag_min, lag_max)
    monkeypatch.setattr(quality, "_VOICED_BLOCK", len(frames))
    whole = quality._voiced(frames, lag_min, lag_max)
    assert 0 < whole[0].sum() < len(frames)
    for got in (by_default, blocked):
        np.testing.assert_array_equal(got[0], whole[0])
        np.testing.assert_array_equal(got[1], whole[1])
