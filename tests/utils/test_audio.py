"""Tests of the audio input contract: ClipArray, check_clips, resolve_sr, wrap_clips."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing

from sklaudio.exceptions import ParameterError
from sklaudio.utils import ClipArray, check_clips, map_clips, resolve_sr, to_float, wrap_clips


def test_cliparray_keeps_sr_through_indexing_cv_splits_and_pickle():
    """Check that sr survives what sklearn does to X: fancy indexing in CV splits,
    slicing, and pickling to worker processes."""
    ragged = ClipArray([np.zeros(3), np.ones(5), np.full(2, 0.5)], sr=16000)
    matrix = ClipArray(np.zeros((4, 10), dtype=np.float32), sr=8000)
    for X in (ragged, matrix):
        for train, test in KFold(2).split(X):
            assert _safe_indexing(X, train).sr == X.sr
            assert _safe_indexing(X, test).sr == X.sr
        back = pickle.loads(pickle.dumps(X))
        assert back.sr == X.sr and type(back) is ClipArray
        assert X[1:].sr == X.sr
    assert [len(c) for c in ragged[[2, 0]]] == [2, 3]
    np.testing.assert_array_equal(ragged.lengths, [3, 5, 2])
    assert not matrix.is_ragged and matrix.dtype == np.float32
    assert type(np.asarray(matrix)) is np.ndarray


def test_equal_length_list_stays_a_list_of_clips():
    """Check that equal-length clips given as a list are kept as separate clips."""
    X = ClipArray([np.zeros(4), np.ones(4)], sr=100)
    assert X.shape == (2,) and X.is_ragged


@pytest.mark.parametrize("sr", [0, -1, np.nan, "16k", True])
def test_cliparray_rejects_bad_sr(sr):
    with pytest.raises(ParameterError, match=re.escape(f"sr={sr!r} is not a valid")):
        ClipArray([np.zeros(3)], sr=sr)


def test_resolve_sr_follows_clips_and_refuses_a_mismatch():
    """Check the one rule for sr: the step's value, else the carried one, else 22050,
    and an error naming both rates when they differ."""
    X = ClipArray([np.zeros(3)], sr=16000)
    assert resolve_sr(None, X, caller="Step") == 16000
    assert resolve_sr(16000, X, caller="Step") == 16000
    assert resolve_sr(None, [np.zeros(3)], caller="Step") == 22050
    assert resolve_sr(8000, [np.zeros(3)], caller="Step") == 8000
    with pytest.raises(ParameterError, match=r"Step has sr=8000, but the clips .* carry sr=16000"):
        resolve_sr(8000, X, caller="Step")
    df = pd.DataFrame(np.zeros((2, 3)))
    df.attrs["sr"] = 11025
    assert resolve_sr(None, df, caller="Step") == 11025


def test_to_float_scales_pcm_like_wav_files():
    """Check the PCM scaling against its closed form for each integer width."""
    np.testing.assert_array_equal(to_float(np.array([-32768, 16384], np.int16)), [-1.0, 0.5])
    np.testing.assert_allclose(to_float(np.array([-2**31, 2**30], np.int32)), [-1.0, 0.5])
    np.testing.assert_array_equal(to_float(np.array([0, 128, 192], np.uint8)), [-1.0, 0.0, 0.5])
    x64 = np.array([0.25, -0.5])
    assert to_float(x64) is x64  # float64 kept as is, no copy
    with pytest.raises(TypeError, match="dtype bool"):
        to_float(np.array([True]))


@pytest.mark.parametrize("X, err, msg", [
    ([], ValueError, "Found array with 0 sample(s)"),
    ([np.zeros(4), np.zeros(0)], ValueError, "clip 1 has 0 samples"),
    ([np.zeros(4), np.array([0.0, np.nan])], ValueError, "clip 1 at sample 1"),
    ([np.array([np.inf, 0.0])], ValueError, "Input contains infinity (inf): clip 0 at sample 0"),
    (np.array([[0.0, 1.0], [np.nan, 0.0]]), ValueError, "clip 1 at sample 0"),
    (np.zeros((2, 3, 4)), ValueError, "Found array with dim 3"),
    ([np.zeros((2, 50))], ValueError, "clip 0 has shape (2, 50)"),
    (np.zeros(5), ValueError, "Expected 2D array, got 1D array instead"),
    ([0.1, 0.2], ValueError, "Expected 2D array, got 1D array instead"),
    ("clip.wav", TypeError, "got a single path 'clip.wav'"),
    (["a.wav", "b.wav"], TypeError, "got file paths (first: 'a.wav')"),
    (sp.csr_matrix(np.ones((2, 3))), TypeError, "Sparse data was passed"),
    ([np.array(["a", "b"])], TypeError, "clip 0 has dtype <U1"),
    (5, TypeError, "got int"),
])
def test_check_clips_errors_name_the_clip(X, err, msg):
    with pytest.raises(err, match=re.escape(msg)):
        check_clips(X, caller="Step")


def test_check_clips_forms():
    """Check each accepted form: matrix, ragged list, int PCM, all-zero clip, DataFrame."""
    M, is_matrix = check_clips(np.zeros((2, 4), np.float32), caller="S")
    assert is_matrix and M.dtype == np.float32
    clips, is_matrix = check_clips([np.zeros(3), np.arange(5, dtype=np.int16)], caller="S")
    assert not is_matrix and [c.dtype for c in clips] == [np.float64, np.float32]
    clips, _ = check_clips([np.zeros(7)], caller="S")  # silence is valid audio
    np.testing.assert_array_equal(clips[0], 0.0)
    M, is_matrix = check_clips(pd.DataFrame(np.ones((2, 3))), caller="S")
    assert is_matrix and M.shape == (2, 3)
    M, is_matrix = check_clips(np.array([[1, 2.0]], dtype=object), caller="S")
    assert is_matrix and M.dtype == np.float64


def test_wrap_clips_keeps_form_and_order():
    out = wrap_clips([np.ones(3), np.zeros(3)], 8000, as_matrix=True)
    assert out.shape == (2, 3) and out.sr == 8000 and out[0, 0] == 1
    out = wrap_clips([np.ones(3), np.zeros(2)], 8000, as_matrix=True)
    assert out.is_ragged and [len(c) for c in out] == [3, 2]


def _square(x, *, k):
    return x * k


def test_map_clips_keeps_order_with_workers(capsys):
    clips = [np.full(3, i, dtype=float) for i in range(7)]
    out = map_clips(_square, clips, n_jobs=2, verbose=1, desc="sq", k=2)
    assert [o[0] for o in out] == [0, 2, 4, 6, 8, 10, 12]
    assert "sq: [" in capsys.readouterr().err


def test_lengths_count_samples_of_multichannel_clips():
    """Check that lengths reads the last axis: a (2, n) clip from mono=False has n samples."""
    X = ClipArray([np.zeros((2, 50)), np.zeros(30)], sr=100)
    np.testing.assert_array_equal(X.lengths, [50, 30])


@pytest.mark.parametrize("make", [
    lambda y: y,  # soundfile.read's stereo layout (n_samples, 2)
    lambda y: y[:, :1],  # soundfile.read(always_2d=True) of a mono file
    lambda y: (y * 32767).astype(np.int16),  # integer PCM
    lambda y: list(y),  # the same rows as a list of 2-sample clips
    lambda y: pd.DataFrame(y),
])
def test_channels_last_recording_is_refused_with_the_fix(make):
    """Check one second of stereo (16000, 2) is refused, not read as 16000 clips."""
    from sklaudio.features import MelFeatures
    from sklaudio.preprocessing import Denoiser, Trimmer

    stereo = np.random.default_rng(0).uniform(-0.5, 0.5, size=(16000, 2))
    X = make(stereo)
    for est in (MelFeatures(sr=16000), Trimmer(sr=16000), Denoiser(sr=16000)):
        with pytest.raises(ValueError, match=r"\(n_samples, n_channels\).*X\.mean\(axis=1\).*X\.T"):
            est.fit(X)
    with pytest.raises(ValueError, match="16000 clips of"):
        check_clips(X, caller="step")


def test_channels_rule_keeps_real_batches():
    """Check the largest batch of 8-sample clips the rule allows (800), and short clips in
    sklearn's usual small batches, are accepted as clips."""
    for shape in [(800, 8), (20, 2), (100, 1), (50, 3)]:
        clips, is_matrix = check_clips(np.ones(shape), caller="step")
        assert clips.shape == shape and is_matrix
    with pytest.raises(ValueError, match="801 clips of 8"):
        check_clips(np.ones((801, 8)), caller="step")
