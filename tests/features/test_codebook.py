"""Tests of MelCodebook: a numpy/librosa reference encoding, level invariance, patch counts."""

import re

import librosa
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression

from sklaudio.exceptions import ParameterError
from sklaudio.features import MelCodebook
from sklaudio.utils import ClipArray

SR = 8000
PARAMS = dict(sr=SR, n_fft=256, hop_length=128, n_mels=16, patch_frames=4, random_state=0)


def _clips(n=6, seconds=0.5, seed=0):
    """Tones of different pitches and noise bursts (two classes), 0.5 s at 8 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    X, y = [], []
    for i in range(n):
        if i % 2 == 0:
            X.append(0.5 * np.sin(2 * np.pi * rng.uniform(300, 1200) * t))
        else:
            X.append(rng.standard_normal(t.size) * (t % 0.1 < 0.03))
        X[-1] = X[-1] + 0.01 * rng.standard_normal(t.size)
        y.append(i % 2)
    return np.asarray(X), np.asarray(y)


def test_transform_equals_a_reference_encoding():
    """Check transform against librosa log-mel + the fitted PCA/codebook, done by hand."""
    X, _ = _clips()
    cb = MelCodebook(n_codewords=5, **PARAMS).fit(X)
    out = cb.transform(X)
    assert out.shape == (6, 15)
    assert_allclose(np.linalg.norm(cb.codebook_, axis=1), 1.0)
    y = X[1]
    M = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=256, hop_length=128, n_mels=16,
                                       pad_mode="constant")
    L = librosa.power_to_db(M, ref=np.max, top_db=80.0)
    P = np.stack([L[:, s : s + 4].ravel() for s in range(L.shape[1] - 3)])
    Z = cb.pca_.transform(P - P.mean(axis=1, keepdims=True))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    A = np.maximum(Z @ cb.codebook_.T, 0)
    expected = np.stack([A.mean(0), A.std(0), A.max(0)], axis=1).ravel()
    assert_allclose(out[1], expected, rtol=1e-5, atol=1e-6)


def test_level_invariant_and_reproducible():
    """Check that scaling a clip by 20 dB changes nothing and a seed fixes the codebook."""
    X, _ = _clips()
    a = MelCodebook(n_codewords=5, **PARAMS).fit(X)
    b = MelCodebook(n_codewords=5, **PARAMS).fit(X)
    assert_allclose(a.codebook_, b.codebook_)
    assert_allclose(a.transform(10 * X), a.transform(X), atol=1e-6)
    c = MelCodebook(n_codewords=5, **{**PARAMS, "random_state": 1}).fit(X)
    assert not np.allclose(a.codebook_, c.codebook_)
    # fit_transform reuses fit's spectrograms and gives transform's rows and dtype
    X32 = X.astype(np.float32)
    d = MelCodebook(n_codewords=5, **PARAMS)
    out = d.fit_transform(X32)
    assert out.dtype == np.float32
    assert_allclose(out, d.transform(X32), rtol=1e-6)


def test_patch_counts_and_silence_exclusion():
    """Check the number of patches learned from: frames - patch_frames + 1 per clip, loud only."""
    X, _ = _clips(n=2)
    n_frames = 1 + X.shape[1] // 128
    cb = MelCodebook(n_codewords=3, **PARAMS).fit(X)
    assert cb.n_patches_fit_ == 2 * (n_frames - 3)
    quiet = X.copy()
    quiet[:, X.shape[1] // 2 :] = 0.0  # the second half is digital silence (-80 dB floor)
    cb = MelCodebook(n_codewords=3, **PARAMS).fit(quiet)
    assert n_frames - 3 < cb.n_patches_fit_ < 2 * (n_frames - 3) - 2 * (n_frames // 2 - 6)
    capped = MelCodebook(n_codewords=3, max_patches=10, **PARAMS).fit(X)
    assert capped.n_patches_fit_ == 10


def test_codewords_separate_tones_from_noise_bursts():
    """Check that a linear model on the codeword activations tells the two sound classes apart."""
    X, y = _clips(n=12)
    Xt, yt = _clips(n=12, seed=1)
    cb = MelCodebook(n_codewords=8, **PARAMS).fit(X)
    clf = LogisticRegression(max_iter=1000).fit(cb.transform(X), y)
    assert clf.score(cb.transform(Xt), yt) == 1.0


def test_ragged_clips_short_clips_and_names():
    """Check clips of different lengths (one shorter than a patch) and the feature names."""
    X, _ = _clips()
    clips = ClipArray([X[0], X[1][:1000], X[2][:200]], SR)
    cb = MelCodebook(n_codewords=4, pooling=("max",), **PARAMS).fit(clips)
    out = cb.transform(clips)
    assert out.shape == (3, 4) and np.isfinite(out).all()
    assert cb.get_feature_names_out().tolist() == [f"codeword_{k:03d}_max" for k in range(4)]


def test_errors_name_the_fix():
    """Check too few patches, a bad pooling name and a sampling-rate mismatch."""
    X, _ = _clips(n=2)
    with pytest.raises(ValueError, match=re.escape("MelCodebook(n_codewords=500) needs")):
        MelCodebook(n_codewords=500, **PARAMS).fit(X)
    with pytest.raises(ValueError, match="pooling"):
        MelCodebook(n_codewords=2, pooling=("mean", "median"), **PARAMS).fit(X)
    cb = MelCodebook(n_codewords=2, **{**PARAMS, "sr": None}).fit(ClipArray(X, SR))
    with pytest.raises(ParameterError, match="sr=16000"):
        cb.transform(ClipArray(X, 16000))


def test_codebook_learns_so_it_is_not_cacheable():
    """Check MelCodebook is not declared cacheable: its rows depend on the clips it fit."""
    assert getattr(MelCodebook, "_sklaudio_cacheable", False) is False
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    tones = [np.sin(2 * np.pi * f * t) for f in (300, 500)]
    noise = [rng.standard_normal(SR) for _ in range(2)]
    a = MelCodebook(**{**PARAMS, "n_codewords": 4}).fit(tones).transform(tones[:1])
    b = MelCodebook(**{**PARAMS, "n_codewords": 4}).fit(noise).transform(tones[:1])
    assert not np.allclose(a, b)


@pytest.mark.parametrize("params", [dict(), dict(top_db=None, pooling=("max", "mean"))])
@pytest.mark.parametrize("n", [300, 1000, 48_000 + 77])
def test_streamed_clip_gives_the_whole_clip_row(params, n, monkeypatch):
    """Check a streamed clip (pieces of 5 frames: patches straddle pieces) gives the whole
    clip's row, for clips with fewer frames than a patch, one patch and many."""
    from sklaudio.features import _codebook
    from sklaudio.utils._stream import StreamedClip

    monkeypatch.setattr(_codebook, "_STREAM_FRAMES", 5)
    rng = np.random.default_rng(n)
    t = np.arange(48_100) / 8000
    X = [(np.sin(2 * np.pi * f * t * (1 + 0.1 * np.sin(t))) + 0.1 * rng.standard_normal(len(t)))
         .astype(np.float32) for f in (200, 400, 800)]
    cb = MelCodebook(n_codewords=6, sr=8000, n_fft=256, hop_length=128, n_mels=16,
                     random_state=0, **params).fit(X)
    y = X[1][:n]
    assert_allclose(cb.transform([StreamedClip.from_array(y, 8000)]), cb.transform([y]),
                    rtol=1e-5, atol=1e-6)
