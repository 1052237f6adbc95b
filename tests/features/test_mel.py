"""Tests of MelFeatures against librosa and of the clip-features contract (ClipFeaturesMixin)."""

import re

import librosa
import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose

from sklaudio.exceptions import ParameterError
from sklaudio.features import MelFeatures, TemporalFeatures
from sklaudio.utils import ClipArray

SR = 16000


def _clip(seconds=1.3, seed=0, f0=220.0, sr=SR):
    r = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * f0 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return y + 0.01 * r.standard_normal(t.size)


def _as_dict(est, row):
    return dict(zip(est.get_feature_names_out(), row))


@pytest.mark.parametrize(
    "params",
    [
        {},
        dict(n_fft=1024, hop_length=256, n_mels=40, fmin=50.0, fmax=6000.0, window="hamming"),
        dict(center=False, win_length=1500, power=1.0, top_db=None),
    ],
)
def test_stats_and_mfcc_equal_librosa(params):
    """Check log-mel band statistics and MFCC/Δ/ΔΔ statistics against librosa on one clip."""
    y = _clip()
    est = MelFeatures(kind=("stats", "mfcc"), sr=SR, n_mfcc=13, percentiles=(10, 90),
                      stats=("mean", "std", "median"), **params).fit([y])
    f = _as_dict(est, est.transform([y])[0])

    mel_kw = {k: v for k, v in params.items() if k != "top_db"}
    top_db = params.get("top_db", 80.0)
    L = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, **mel_kw), top_db=top_db)
    if top_db == 80.0:  # librosa.feature.mfcc(y=...) has its own power_to_db (top_db=80)
        C = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, **mel_kw)
    else:
        C = librosa.feature.mfcc(S=L, n_mfcc=13)
    D1 = librosa.feature.delta(C)
    D2 = librosa.feature.delta(C, order=2)

    n_mels = L.shape[0]
    got = np.array([[f[f"mel_{b:03d}_{s}"] for s in ("mean", "std", "median", "p10", "p90")]
                    for b in range(n_mels)])
    want = np.column_stack([L.mean(1), L.std(1), np.median(L, 1),
                            np.percentile(L, 10, axis=1), np.percentile(L, 90, axis=1)])
    assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    for name, A in [("", C), ("_d1", D1), ("_d2", D2)]:
        got = np.array([[f[f"mfcc_{k:02d}{name}_mean"], f[f"mfcc_{k:02d}{name}_std"]]
                        for k in range(13)])
        assert_allclose(got, np.column_stack([A.mean(1), A.std(1)]), rtol=1e-6, atol=1e-6)


def test_image_equals_librosa_first_frames_and_pads_with_floor():
    """Check the image is librosa's log-mel cut to `duration`, padded with the dB floor."""
    y = _clip(seconds=1.5)
    est = MelFeatures(kind="image", sr=SR, n_mels=32, duration=1.0).fit([y])
    T = 1 + SR // 512
    img = est.transform([y])[0].reshape(32, T)
    L = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=32))
    assert_allclose(img, L[:, :T], rtol=1e-6, atol=1e-6)
    assert est.get_feature_names_out()[T + 1] == "mel_image_f001_t001"

    short = y[: SR // 4]
    img = est.transform([short])[0].reshape(32, T)
    Ls = librosa.power_to_db(librosa.feature.melspectrogram(y=short, sr=SR, n_mels=32))
    n = Ls.shape[1]
    assert_allclose(img[:, :n], Ls, rtol=1e-6, atol=1e-6)
    assert_allclose(img[:, n:], Ls.max() - 80.0, rtol=1e-6)


def test_one_stft_serves_all_kinds():
    """Check a combined kind equals the kinds computed separately, in the given order."""
    X = np.stack([_clip(seed=0), _clip(seed=1, f0=150.0)])
    kinds = ("mfcc", "image", "stats")
    both = MelFeatures(kind=kinds, sr=SR, n_mels=20, duration=0.5).fit(X)
    parts = [MelFeatures(kind=k, sr=SR, n_mels=20, duration=0.5).fit(X) for k in kinds]
    assert_allclose(both.transform(X), np.hstack([p.transform(X) for p in parts]))
    assert list(both.get_feature_names_out()) == sum(
        (list(p.get_feature_names_out()) for p in parts), []
    )


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_matrix_rows_independent_and_ragged_order_kept(Est):
    """Check a row depends on its clip only (per-clip dB floor), and ragged order is kept."""
    clips = [_clip(1.0, 0), 1e-4 * _clip(1.0, 1, 330.0), _clip(0.6, 2, 110.0), np.zeros(9000)]
    est = Est(sr=SR).fit(clips)
    singles = np.vstack([est.transform([c]) for c in clips])
    assert_allclose(est.transform(clips), singles, rtol=1e-6, atol=1e-6)
    assert_allclose(est.transform(clips[::-1]), singles[::-1], rtol=1e-6, atol=1e-6)
    X = np.stack(clips[:2])
    assert_allclose(est.transform(X), singles[:2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_pandas_output_names(Est):
    """Check set_output(transform='pandas') gives readable column names."""
    X = np.stack([_clip(0.5, 0), _clip(0.5, 1)])
    df = Est(sr=SR).set_output(transform="pandas").fit_transform(X)
    names = list(Est(sr=SR).fit(X).get_feature_names_out())
    assert list(df.columns) == names and df.shape == (2, len(names))
    expected = "mfcc_03_d1_std" if Est is MelFeatures else "onset_rate"
    assert expected in names


def test_float32_matrix_stays_float32():
    """Check float32 clips give float32 features close to the float64 ones."""
    X = np.stack([_clip(0.5, 0), _clip(0.5, 1)])
    est = MelFeatures(sr=SR).fit(X)
    out32 = est.transform(X.astype(np.float32))
    assert out32.dtype == np.float32
    assert_allclose(out32, est.transform(X), rtol=1e-3, atol=2e-3)


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_sr_mismatch_names_both_rates(Est):
    """Check transform refuses clips at another rate than fit, naming both rates."""
    y = _clip(0.5)
    est = Est().fit(ClipArray([y], sr=SR))
    assert est.sr_ == SR
    with pytest.raises(ParameterError, match="sr=16000.*sr=22050"):
        est.transform(ClipArray([y], sr=22050))
    with pytest.raises(ParameterError, match="sr=16000.*sr=8000"):
        Est(sr=SR).fit(ClipArray([y], sr=8000))
    assert Est().fit([y]).sr_ == 22050  # no carried rate: librosa's default


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_nan_clip_error_names_index(Est):
    """Check a NaN sample is refused with the index of its clip."""
    clips = [_clip(0.3, 0), _clip(0.2, 1)]
    clips[1] = clips[1].copy()
    clips[1][100] = np.nan
    with pytest.raises(ValueError, match="clip 1 at sample 100"):
        Est(sr=SR).fit(clips)


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_silent_and_short_clips_give_finite_features(Est):
    """Check all-zero and shorter-than-n_fft clips give finite features (dB floor, padding)."""
    est = Est(sr=SR, percentiles=(5, 95)).fit([np.zeros(4000)])
    out = est.transform([np.zeros(4000), np.zeros(1), _clip(0.01)])
    assert np.isfinite(out).all()


def test_short_clip_is_zero_padded_to_n_fft():
    """Check a clip shorter than n_fft gives the features of the clip zero-padded to n_fft."""
    y = _clip(0.05)  # 800 samples < 2048
    est = MelFeatures(kind=("stats", "mfcc"), sr=SR).fit([y])
    padded = np.pad(y, (0, 2048 - y.size))
    assert_allclose(est.transform([y]), est.transform([padded]))


def test_silent_clip_is_at_the_floor():
    """Check an all-zero clip's log-mel is -100 dB (librosa's amin) in every band."""
    est = MelFeatures(kind="stats", sr=SR, n_mels=8, n_mfcc=8).fit([np.zeros(4096)])
    f = _as_dict(est, est.transform([np.zeros(4096)])[0])
    assert f["mel_003_mean"] == pytest.approx(-100.0) and f["mel_003_std"] == 0.0


@pytest.mark.parametrize(
    "params, msg",
    [
        (dict(kind=("stats", "stats")), "tuple of distinct"),
        (dict(kind=("mfcc", "spectrogram")), "kind="),
        (dict(n_mfcc=30, n_mels=20), "n_mfcc=30) cannot exceed n_mels=20"),
        (dict(delta_width=4), "delta_width=4) must be odd"),
        (dict(fmax=9000.0), "fmax=9000.0, sr=16000"),
        (dict(stats=("mean", "var")), "stats=...) got ['var']"),
        (dict(percentiles=(5, 120)), "percentiles=(5, 120)"),
    ],
)
def test_bad_parameters_are_named(params, msg):
    """Check cross-parameter errors name the parameter and the value."""
    with pytest.raises(ValueError, match=re.escape(msg)):
        MelFeatures(sr=SR, **params).fit([_clip(0.2)])


def test_n_jobs_and_progress(capsys):
    """Check n_jobs=2 gives the same rows and verbose prints a progress line."""
    clips = [_clip(0.3, s) for s in range(4)]
    ref = MelFeatures(sr=SR).fit(clips).transform(clips)
    with parallel_config(backend="threading"):
        out = MelFeatures(sr=SR, n_jobs=2, verbose=1).fit(clips).transform(clips)
    assert_allclose(out, ref)
    assert "MelFeatures: [" in capsys.readouterr().err


def test_real_speech_matches_librosa():
    """Check MFCC statistics on a real LibriSpeech file equal librosa's."""
    import soundfile as sf

    from tests.conftest import require_data

    path = sorted(require_data("librispeech-251").glob("*.flac"))[0]
    y, sr = sf.read(path, dtype="float32")
    est = MelFeatures(sr=sr).fit([y])
    f = _as_dict(est, est.transform([y])[0])
    C = librosa.feature.mfcc(y=y, sr=sr)
    assert_allclose([f[f"mfcc_{k:02d}_mean"] for k in range(20)], C.mean(1), rtol=1e-4, atol=1e-3)
    assert_allclose([f[f"mfcc_{k:02d}_d2_std"] for k in range(20)],
                    librosa.feature.delta(C, order=2).std(1), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("Est", [MelFeatures, TemporalFeatures])
def test_large_matrix_is_processed_in_order_across_blocks(Est):
    """Check a matrix with more rows than one batched block keeps row order."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((70, 3000)) * rng.uniform(0.01, 1.0, (70, 1))
    est = Est(sr=SR, n_fft=512, hop_length=128).fit(X)
    out = est.transform(X)
    for i in (0, 31, 32, 33, 69):
        assert_allclose(out[i], est.transform(X[i : i + 1])[0], rtol=1e-6, atol=1e-9)


def test_mel_features_are_cacheable_and_deterministic():
    """Check MelFeatures declares itself cacheable: same clips, same rows, any fit."""
    assert MelFeatures._sklaudio_cacheable is True
    X = ClipArray([_clip(0.5, seed=1), _clip(0.7, seed=2)], sr=SR)
    a = MelFeatures().fit(X).transform(X)
    b = MelFeatures().fit(X[::-1]).transform(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(8))
def test_delta_stream_equals_librosa_delta_on_the_whole_series(seed):
    """Check MFCC deltas computed chunk by chunk equal librosa.feature.delta of the whole.

    Random series lengths (some shorter than the window, which uses mode="nearest")
    and random chunk sizes, down to one frame.
    """
    from sklaudio.features._mel import _DeltaStream

    rng = np.random.default_rng(seed)
    width = int(rng.choice([3, 5, 9]))
    n = int(rng.integers(1, 200))
    C = rng.standard_normal((4, n))
    mode = "interp" if n >= width else "nearest"
    want = np.stack([C] + [librosa.feature.delta(C, width=width, order=k, mode=mode)
                           for k in (1, 2)])
    stream = _DeltaStream(width, 2, n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, rng.integers(0, 20)),
                              replace=False)) if n > 1 else []
    got = [stream.add(c) for c in np.split(C, cuts, axis=-1)]
    got = np.concatenate([g for g in got if g is not None], axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
