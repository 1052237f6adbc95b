"""Tests of F0Stats and estimate_f0: known tones, unvoiced input, and librosa.pyin."""

import re

import librosa
import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal

from sklaudio.exceptions import ParameterError
from sklaudio.features import F0Stats, estimate_f0
from sklaudio.features._pyin import _log_band, _viterbi
from sklaudio.utils import ClipArray
from tests.conftest import harmonic, require_data

NAMES = ["f0_mean", "f0_median", "f0_std", "f0_p05", "f0_p95", "voiced_fraction"]


def _interior(n_frames, margin=3):
    """Frames away from the clip edges, where the padded frames are partly silent."""
    return slice(margin, n_frames - margin)


@pytest.mark.parametrize("sr", [16000, 22050])
@pytest.mark.parametrize("f0", [82.0, 131.0, 200.0, 277.0, 400.0])
def test_harmonic_tone_f0_within_one_percent(f0, sr):
    """Check that every frame of a steady harmonic tone reads its f0 within 1 %."""
    y = harmonic(f0, sr=sr, duration=0.6)
    est, voiced, prob = estimate_f0(y, sr=sr, fmin=50, fmax=500)
    inner = _interior(len(est))
    assert voiced[inner].all()
    assert_allclose(est[inner], f0, rtol=0.01)
    assert np.all((prob >= 0) & (prob <= 1))

    row = F0Stats().fit_transform(ClipArray(y[np.newaxis], sr=sr))[0]
    assert_allclose(row[:2], f0, rtol=0.01)  # mean, median
    assert_allclose(row[3:5], f0, rtol=0.01)  # p05, p95
    assert row[2] < 0.01 * f0
    assert row[5] > 0.85


def test_vibrato_tracked_frame_by_frame():
    """Check each frame's f0 against the instantaneous f0 of a 5 Hz, +-3 % vibrato."""
    sr, hop, frame_length = 16000, 256, 1024
    t = np.arange(int(1.5 * sr)) / sr
    f0_true = 220.0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    y = harmonic(f0_true, sr=sr, duration=1.5)
    est, voiced, _ = estimate_f0(
        y, sr=sr, fmin=60, fmax=500, frame_length=frame_length, hop_length=hop
    )
    centres = np.arange(len(est)) * hop  # center=True: frame t is centred on t * hop
    inner = _interior(len(est), margin=4)
    assert voiced[inner].all()
    rel = np.abs(est[inner] / f0_true[centres[inner]] - 1)
    assert rel.max() <= 0.01
    # it follows the vibrato rather than its average: most of the 13.2 Hz swing is there
    assert np.ptp(est[inner]) > 0.75 * np.ptp(f0_true)


@pytest.mark.parametrize("kind", ["white_noise", "loud_noise", "silence"])
def test_unvoiced_input_gives_zero_voicing_and_finite_values(kind, rng):
    """Check that noise and silence are unvoiced, and their statistics finite (0.0)."""
    sr = 16000
    scale = {"white_noise": 0.05, "loud_noise": 0.9, "silence": 0.0}[kind]
    clips = [scale * rng.standard_normal(sr) for _ in range(3)]
    out = F0Stats().fit_transform(ClipArray(clips, sr=sr))
    assert_array_equal(out, 0.0)  # voiced_fraction 0 and every f0 statistic 0.0


def test_noise_runs_are_pyins_own_decisions(rng):
    """Check that min_run_prob=0 keeps pyin's voicing of noise, which the default drops.

    librosa.pyin decodes stretches of white noise as voiced near fmin, with a voiced
    probability of no_trough_prob (0.01) in each frame; F0Stats discards such runs.
    """
    sr = 16000
    y = rng.standard_normal(2 * sr)
    _, ref_voiced, ref_prob = librosa.pyin(y, sr=sr, fmin=50, fmax=500, frame_length=1486)
    assert ref_voiced.any() and ref_prob.max() < 0.02  # the quirk is there
    keep = F0Stats(min_run_prob=0.0).fit_transform(ClipArray([y], sr=sr))[0]
    assert keep[5] == pytest.approx(ref_voiced.mean())
    assert keep[1] < 70  # near fmin
    assert F0Stats().fit_transform(ClipArray([y], sr=sr))[0, 5] == 0.0


def test_tiny_clip_is_finite():
    """Check that a clip shorter than one period gives finite zeros, not NaN."""
    out = F0Stats().fit_transform(ClipArray([np.ones(3)], sr=16000))
    assert_array_equal(out, 0.0)


def _voicing_and_error(a, b):
    """Voicing agreement and median relative f0 error on frames both call voiced."""
    agree = np.mean(a[1] == b[1])
    both = a[1] & b[1]
    return agree, np.median(np.abs(b[0][both] / a[0][both] - 1)), both.sum()


def test_agrees_with_librosa_pyin_on_speech():
    """Check voicing (>= 95 % of frames) and f0 (median <= 1 %) against librosa.pyin."""
    root = require_data("librispeech-251")
    files = sorted(root.glob("*.flac"))[:3]
    assert len(files) == 3
    for path in files:
        y, sr = sf.read(path, dtype="float32", frames=4 * 16000)
        ref = librosa.pyin(y, sr=sr, fmin=50, fmax=500)
        ours = estimate_f0(y, sr=sr, fmin=50, fmax=500)
        assert ours[0].shape == ref[0].shape
        agree, err, n_both = _voicing_and_error(ref, ours)
        assert n_both > 20, path.name  # speech: plenty of voiced frames to compare
        assert agree >= 0.95, (path.name, agree)
        assert err <= 0.01, (path.name, err)
        assert_allclose(ours[2], ref[2], atol=1e-3)  # same observation model


@pytest.mark.parametrize("seed", range(4))
def test_banded_viterbi_matches_dense_decoder(seed):
    """Check the banded, sparse decoder against librosa's dense Viterbi on pyin's HMM.

    Both must find a path of the same (best) log-probability with the same voiced
    states; among exactly tied paths the unvoiced states' remembered bin may differ.
    """
    rng = np.random.default_rng(seed)
    n_bins, n_frames, half_width, switch = 60, 80, 10, 0.01
    tiny = np.finfo(float).tiny
    # sparse voiced observations, as pyin makes them: a few candidate bins per frame
    n_cand = rng.integers(0, 5, n_frames).astype(np.int32)
    cand_bin = np.zeros((n_frames, 8), dtype=np.int32)
    cand_prob = np.zeros((n_frames, 8))
    obs = np.zeros((2 * n_bins, n_frames))
    walk = 30
    for t in range(n_frames):
        walk = int(np.clip(walk + rng.integers(-4, 5), 0, n_bins - 1))
        bins = np.unique(np.r_[walk, rng.integers(0, n_bins, n_cand[t])])[: n_cand[t]]
        n_cand[t] = len(bins)
        p = rng.dirichlet(np.ones(len(bins) + 1))[:-1] if len(bins) else []
        cand_bin[t, : len(bins)] = bins
        cand_prob[t, : len(bins)] = p
        obs[bins, t] = p
        obs[n_bins:, t] = (1 - np.sum(p)) / n_bins
    transition = librosa.sequence.transition_local(
        n_bins, 2 * half_width + 1, window="triangle", wrap=False
    )
    transition = np.kron(librosa.sequence.transition_loop(2, 1 - switch), transition)
    ref = librosa.sequence.viterbi(obs, transition, p_init=np.full(2 * n_bins, 0.5 / n_bins))

    log_stay, log_switch = _log_band(n_bins, half_width, switch)
    # the band holds exactly the dense matrix's in-band entries
    i, d = np.nonzero(np.isfinite(log_stay))
    assert_allclose(np.exp(log_stay[i, d]), transition[i, i + d - half_width], rtol=1e-12)
    states = _viterbi(
        cand_bin, np.log(cand_prob + tiny), n_cand, np.log(obs[n_bins:].max(0) + tiny),
        log_stay, log_switch, float(np.log(0.5 / n_bins)), n_bins, half_width,
    )
    log_t, log_o = np.log(transition + tiny), np.log(obs + tiny)

    def log_prob(path):
        return log_o[path, np.arange(n_frames)].sum() + log_t[path[:-1], path[1:]].sum()

    assert log_prob(states) == pytest.approx(log_prob(ref), rel=1e-12)
    assert_array_equal(states < n_bins, ref < n_bins)
    assert_array_equal(states[ref < n_bins], ref[ref < n_bins])


def test_ragged_clips_keep_their_order():
    """Check one row per clip, in input order, for clips of different lengths."""
    sr = 16000
    clips = [harmonic(f, sr=sr, duration=d) for f, d in [(300, 0.5), (110, 1.0), (180, 0.7)]]
    est = F0Stats().fit(ClipArray(clips, sr=sr))
    out = est.transform(ClipArray(clips, sr=sr))
    assert out.shape == (3, 6)
    assert_allclose(out[:, 1], [300, 110, 180], rtol=0.01)
    back = est.transform(ClipArray(clips[::-1], sr=sr))
    assert_allclose(back, out[::-1])
    for k, clip in enumerate(clips):
        assert_allclose(est.transform(ClipArray([clip], sr=sr))[0], out[k])


def test_sr_mismatch_raises():
    """Check that transform refuses clips at another rate than fit, and sr= vs carried."""
    y = harmonic(150, sr=16000, duration=0.3)
    est = F0Stats().fit(ClipArray([y], sr=16000))
    assert est.sr_ == 16000 and est.frame_length_ == 1486 and est.hop_length_ == 371
    with pytest.raises(ParameterError, match="sr=16000.*sr=22050"):
        est.transform(ClipArray([y], sr=22050))
    with pytest.raises(ParameterError, match=re.escape("F0Stats has sr=22050")):
        F0Stats(sr=22050).fit(ClipArray([y], sr=16000))


def test_nan_input_names_the_clip():
    """Check that a NaN sample raises a ValueError naming the clip and sample."""
    clips = [np.zeros(800), np.r_[np.zeros(500), np.nan, np.zeros(10)]]
    with pytest.raises(ValueError, match="NaN: clip 1 at sample 500"):
        F0Stats().fit_transform(ClipArray(clips, sr=16000))
    with pytest.raises(ValueError, match="NaN"):
        estimate_f0(np.r_[np.zeros(100), np.nan], sr=16000)


def test_pyin_method_equals_librosa_statistics(speechlike):
    """Check that method="pyin" gives the statistics of librosa.pyin's own f0 track."""
    sr = 16000
    clips = [speechlike(f0=130, sr=sr, duration=0.5), speechlike(f0=210, sr=sr, duration=0.4)]
    est = F0Stats(method="pyin", frame_length=1024, percentiles=(10, 50, 90), min_run_prob=0)
    out = est.fit_transform(ClipArray(clips, sr=sr))
    for row, y in zip(out, clips):
        f0, voiced, _ = librosa.pyin(y, sr=sr, fmin=50, fmax=500, frame_length=1024)
        v = f0[voiced]
        expected = [v.mean(), np.median(v), v.std(), *np.percentile(v, [10, 50, 90]),
                    voiced.mean()]
        assert_allclose(row, expected, rtol=1e-12)
    # and the fast method agrees with it on these clips
    fast = F0Stats(frame_length=1024, percentiles=(10, 50, 90)).fit_transform(
        ClipArray(clips, sr=sr)
    )
    assert_allclose(fast[:, :2], out[:, :2], rtol=0.01)


def test_feature_names_and_pandas_output():
    """Check readable names, percentile names, and set_output(transform="pandas")."""
    pd = pytest.importorskip("pandas")
    X = ClipArray([harmonic(200, sr=16000, duration=0.3)] * 2, sr=16000)
    est = F0Stats().fit(X)
    assert est.get_feature_names_out().tolist() == NAMES
    names = F0Stats(percentiles=(2.5, 50)).fit(X).get_feature_names_out().tolist()
    assert names == ["f0_mean", "f0_median", "f0_std", "f0_p2_5", "f0_p50", "voiced_fraction"]
    df = F0Stats().set_output(transform="pandas").fit_transform(X)
    assert isinstance(df, pd.DataFrame) and df.columns.tolist() == NAMES


def test_estimate_f0_matches_pyin_interface():
    """Check frame count, fill_na and channel axes like librosa.pyin's."""
    sr = 22050
    y = harmonic(180, sr=sr, duration=0.5)
    f0, voiced, prob = estimate_f0(y, sr=sr)
    ref = librosa.pyin(y, sr=sr, fmin=50, fmax=500)
    assert f0.shape == voiced.shape == prob.shape == ref[0].shape
    assert np.isnan(f0[~voiced]).all() and not np.isnan(f0[voiced]).any()
    filled, _, _ = estimate_f0(y, sr=sr, fill_na=None)
    assert np.isfinite(filled).all()
    stereo, v2, _ = estimate_f0(np.stack([y, 0 * y]), sr=sr)
    assert stereo.shape == (2, len(f0))
    assert_array_equal(v2[0], voiced) and not v2[1].any()
    exact = estimate_f0(y, sr=sr, method="pyin")
    assert_allclose(exact[0], ref[0], equal_nan=True)


def test_blocks_of_frames_give_the_whole_clips_bits(speechlike, rng, monkeypatch):
    """Check f0, voicing and probabilities do not depend on how many frames share an FFT.

    A voice, a pause of noise and a glide: blocks of 16 frames (the smallest), the
    default, and all frames in one block.
    """
    import sklaudio.features._pyin as pyin

    sr = 16000
    y = np.r_[speechlike(sr=sr, duration=2.0), 0.01 * rng.standard_normal(sr // 4),
              harmonic(140, sr=sr, duration=1.5)]
    default_step = pyin._frames_per_block(2048, int(np.ceil(sr / 50.0)))  # estimate_f0's
    runs = []
    for block_bytes in (1, pyin._BLOCK_BYTES, 1 << 40):
        monkeypatch.setattr(pyin, "_BLOCK_BYTES", block_bytes)
        runs.append(estimate_f0(y, sr=sr, fill_na=None))
    n_frames = len(runs[0][0])
    assert 16 < default_step < n_frames
    assert 0 < runs[0][1].sum() < n_frames
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, msg",
    [
        (dict(fmax=9000.0), "fmax=9000.0 exceeds the Nyquist frequency"),
        (dict(fmin=300.0, fmax=200.0), "fmin=300.0 must be less than fmax=200.0"),
        (dict(fmin=5.0), "fmin=5.0 is too low for frame_length=1486"),
        (dict(percentiles=(5, 120)), "percentiles=(5, 120)) must hold numbers in [0, 100]"),
    ],
)
def test_bad_parameters_raise_naming_them(params, msg):
    """Check that infeasible parameters raise a ValueError that names them."""
    X = ClipArray([np.zeros(1000)], sr=16000)
    with pytest.raises(ValueError, match=re.escape(msg)):
        F0Stats(**params).fit(X)


def test_f0_stats_are_cacheable_and_deterministic():
    """Check F0Stats declares itself cacheable: same clips, same rows, whatever it fit."""
    assert F0Stats._sklaudio_cacheable is True
    sr = 16000
    X = ClipArray([harmonic(150, sr=sr, duration=0.5), harmonic(230, sr=sr, duration=0.6)],
                  sr=sr)
    a = F0Stats().fit(X).transform(X)
    np.testing.assert_array_equal(a, F0Stats().fit(X[1:]).transform(X))


# ------------------------------------------------------------ streamed (long) clips
def _glides_and_pauses(seed, n_parts=12, sr=16000):
    """Harmonic glides (60-480 Hz) with pauses, a noise stretch and digital silence."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(n_parts):
        n = int(rng.uniform(0.3, 2.5) * sr)
        f = np.geomspace(rng.uniform(60, 200), rng.uniform(150, 480), n)
        phase = 2 * np.pi * np.cumsum(f) / sr
        parts.append(0.3 * sum(np.sin(k * phase) / k for k in range(1, 6)))
        parts.append(np.zeros(int(rng.uniform(0.05, 1.5) * sr)))
    parts.append(0.05 * rng.standard_normal(2 * sr))
    return np.concatenate(parts).astype(np.float32)


def _streamed_row(est, y, monkeypatch, frames_per_chunk):
    from sklaudio.features import _f0
    from sklaudio.utils._stream import StreamedClip

    monkeypatch.setattr(_f0, "_STREAM_FRAMES", frames_per_chunk)
    return est.transform([StreamedClip.from_array(y, est.sr_, name="long.wav")])[0]


@pytest.mark.parametrize("frames_per_chunk", [7, 64, 2048])
def test_streamed_viterbi_equals_whole_clip_on_glides(frames_per_chunk, monkeypatch):
    """Check the streamed decoding (paths decided where they meet) gives the whole
    clip's row exactly, in chunks much shorter than the pauses and glides."""
    y = _glides_and_pauses(0)
    est = F0Stats(sr=16000, percentiles=(5, 50, 95), min_run_prob=0.3).fit([y])
    whole = est.transform([y])[0]
    assert 0.2 < whole[-1] < 0.9  # voiced and unvoiced stretches, runs dropped
    assert_allclose(_streamed_row(est, y, monkeypatch, frames_per_chunk), whole, rtol=1e-12)


def test_streamed_viterbi_equals_whole_clip_on_real_speech(monkeypatch):
    """Check the same on 60 s of real read speech (LibriSpeech utterances joined)."""
    root = require_data("librispeech-251")
    paths = sorted(root.rglob("*.flac"))[:8]
    y = np.concatenate([sf.read(p, dtype="float32")[0] for p in paths])
    est = F0Stats(sr=16000).fit([y[:16000]])
    whole = est.transform([y])[0]
    assert_allclose(_streamed_row(est, y, monkeypatch, 100), whole, rtol=1e-12)


def test_streamed_decoder_bounds_its_memory_and_forces_only_in_long_silence():
    """Check the undecided frames stay a chunk plus the merge distance, and that
    decisions are forced only by long digital silence, where they touch no voiced
    frame."""
    from sklaudio.features._pyin import _Model, _StreamingDecoder
    from sklaudio.utils._dsp import frame

    sr, fl = 16000, 1486
    hop = fl // 4
    y = np.concatenate([_glides_and_pauses(1, n_parts=4), np.zeros(40 * sr, np.float32),
                        _glides_and_pauses(2, n_parts=4)])
    params = dict(sr=sr, fmin=50.0, fmax=500.0, frame_length=fl, hop_length=hop,
                  n_thresholds=100, beta_parameters=(2, 18), boltzmann_parameter=2.0,
                  max_transition_rate=35.92, switch_prob=0.01, no_trough_prob=0.01)
    f0, voiced, prob = estimate_f0(y, center=True, fill_na=None, **params)
    frames = frame(y, frame_length=fl, hop_length=hop)
    for max_undecided, forced in [(10_000, False), (300, True)]:
        dec = _StreamingDecoder(_Model(**params), max_undecided=max_undecided)
        out = [dec.push(frames[i : i + 50]) for i in range(0, len(frames), 50)]
        out.append(dec.finish())
        states = np.concatenate([o[0] for o in out])
        assert_array_equal(np.concatenate([o[1] for o in out]), prob)
        assert_array_equal(states < dec.model.n_bins, voiced)
        assert_array_equal(dec.model.freqs[states % dec.model.n_bins][voiced], f0[voiced])
        assert (dec.n_forced > 0) == forced
        # undecided: the silence plus a chunk and a few hundred frames, or the cap
        assert dec.longest <= min(max_undecided + 50, 40 * sr // hop + 500)


def test_streamed_clip_with_librosa_method_is_refused():
    from sklaudio.utils._stream import StreamedClip

    y = harmonic(150, duration=0.5)
    est = F0Stats(sr=16000, method="pyin").fit([y])
    with pytest.raises(ValueError, match=r"method='pyin'.*'long.wav' is streamed.*'fast'"):
        est.transform([StreamedClip.from_array(y, 16000, name="long.wav")])
