"""Tests of the Trimmer against librosa.effects.trim and closed forms."""

import pickle
import re

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal

from sklaudio.exceptions import AudioWarning, ParameterError
from sklaudio.preprocessing import Trimmer
from sklaudio.utils import ClipArray
from tests.conftest import require_data

SR = 8000


def _tone(seconds, f=440.0, amp=0.5):
    return amp * np.sin(2 * np.pi * f * np.arange(int(seconds * SR)) / SR)


def _padded(rng, before=0.7, tone=1.0, after=0.4, floor=1e-4):
    y = np.r_[np.zeros(int(before * SR)), _tone(tone), np.zeros(int(after * SR))]
    return y + floor * rng.standard_normal(len(y))


@pytest.mark.parametrize("top_db", [20, 40, 60])
@pytest.mark.parametrize("frame_length, hop_length", [(2048, 512), (512, 128), (300, 100)])
def test_trim_matches_librosa_synthetic(rng, top_db, frame_length, hop_length):
    """Check leading/trailing trim equals librosa.effects.trim sample for sample."""
    clips = [_padded(rng), _padded(rng, 0.01, 0.2, 1.3), _tone(0.01), rng.standard_normal(100)]
    out = Trimmer(sr=SR, top_db=top_db, frame_length=frame_length,
                  hop_length=hop_length).transform(clips)
    for y, got in zip(clips, out):
        ref, _ = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length,
                                      hop_length=hop_length)
        assert_array_equal(got, ref)


def test_trim_matches_librosa_real():
    """Check leading/trailing trim equals librosa.effects.trim on real speech."""
    folder = require_data("librispeech-251")
    names = pd.read_csv(folder / "manifest.csv")["path"].iloc[:3]
    clips = [sf.read(folder / n, dtype="float32")[0] for n in names]
    for top_db in (30, 60):
        out = Trimmer(top_db=top_db).transform(ClipArray(clips, sr=16000))
        for y, got in zip(clips, out):
            assert_array_equal(got, librosa.effects.trim(y, top_db=top_db)[0])
            assert got.dtype == np.float32


def test_internal_silence_is_shortened():
    """Check a 1 s internal gap becomes 2 x keep_silence while a short one stays."""
    y = np.r_[_tone(0.5), np.zeros(SR), _tone(0.5), np.zeros(SR // 10), _tone(0.5)]
    tr = Trimmer(sr=SR, top_db=40, frame_length=256, hop_length=64, min_silence=0.3,
                 keep_silence=0.05)
    out = tr.transform([y])[0]
    # the long gap shrinks to ~0.1 s, give or take a frame at each speech edge
    assert abs((len(y) - len(out)) / SR - 0.9) < 2 * 256 / SR
    untouched = Trimmer(sr=SR, top_db=40, frame_length=256, hop_length=64).transform([y])[0]
    assert len(untouched) >= len(out)


def test_head_tail_and_duration_closed_form(rng):
    """Check head/tail cut exact sample counts and duration pads/crops to exact length."""
    X = rng.standard_normal((3, 2 * SR))
    out = Trimmer(sr=SR, top_db=None, head=0.25, tail=0.5).transform(X)
    assert out.shape == (3, 2 * SR - 2000 - 4000) and not out.is_ragged
    assert_array_equal(out, X[:, 2000:-4000])
    start = Trimmer(sr=SR, top_db=None, duration=1.0).transform(X)
    assert_array_equal(start, X[:, :SR])
    center = Trimmer(sr=SR, top_db=None, duration=1.0, crop="center").transform(X)
    assert_array_equal(center, X[:, SR // 2 : SR // 2 + SR])
    padded = Trimmer(sr=SR, top_db=None, duration=3.0).transform(X)
    assert_array_equal(padded[:, : 2 * SR], X)
    assert_array_equal(padded[:, 2 * SR :], 0)


def test_random_crop_reproducible_and_inside(rng):
    """Check the random crop is reproducible with an int seed and is a window of the clip."""
    X = np.tile(np.arange(1000.0), (4, 1))
    tr = Trimmer(sr=1000, top_db=None, duration=0.2, crop="random", random_state=0)
    a, b = tr.transform(X), tr.transform(X)
    assert_array_equal(a, b)
    for row in a:
        assert_array_equal(np.diff(row), 1.0)  # contiguous window of 0..999
    assert len({row[0] for row in a}) > 1


def test_ragged_to_matrix_with_duration_and_order(rng):
    """Check ragged clips keep order and become a matrix when duration fixes the length."""
    clips = [_tone(0.3, f) for f in (200, 300, 400)] + [_tone(0.05)]
    out = Trimmer(sr=SR, duration=0.2).fit_transform(ClipArray(clips, sr=SR))
    assert out.shape == (4, 1600) and out.sr == SR
    for c, o in zip(clips, out):
        n = min(len(c), 1600)
        assert_array_equal(o[:n], librosa.effects.trim(c, top_db=60)[0][:n])
    lengths = [len(c) for c in Trimmer(sr=SR).transform(clips)]
    assert lengths == [len(librosa.effects.trim(c, top_db=60)[0]) for c in clips]


def test_all_silent_clip_warns_and_returns_zeros(rng):
    """Check a clip with nothing above a fixed ref becomes zeros with a warning naming it."""
    clips = [_tone(0.5), 1e-6 * rng.standard_normal(4000), _tone(0.5)]
    with pytest.warns(AudioWarning, match=re.escape("clip(s) [1]")):
        out = Trimmer(sr=SR, ref=1.0, top_db=40, frame_length=256, hop_length=64).transform(clips)
    assert_array_equal(out[1], np.zeros(256))
    with pytest.warns(AudioWarning, match=re.escape("[0, 1]")):
        out = Trimmer(sr=SR, top_db=None, head=1.0, duration=0.1).transform(np.ones((2, 100)))
    assert_array_equal(out, np.zeros((2, 800)))


def test_all_zero_and_short_clips_like_librosa():
    """Check an all-zero clip is kept whole (as librosa) and a clip shorter than a frame works."""
    out = Trimmer(sr=SR).transform([np.zeros(3000), np.r_[0.0, 0.5, 0.0]])
    assert_array_equal(out[0], np.zeros(3000))
    assert_array_equal(out[1], librosa.effects.trim(np.r_[0.0, 0.5, 0.0])[0])


def test_sr_mismatch_and_bad_input():
    """Check sr mismatch names both rates and bad clips are named by index."""
    with pytest.raises(ParameterError, match=r"sr=8000.*sr=16000"):
        Trimmer(sr=8000).transform(ClipArray(np.zeros((1, 100)), sr=16000))
    with pytest.raises(ValueError, match="clip 1 has 0 samples"):
        Trimmer().transform([np.ones(10), np.zeros(0)])
    with pytest.raises(ValueError, match=re.escape("clip 0 at sample 2")):
        Trimmer().transform([np.r_[0.0, 1.0, np.nan]])
    with pytest.raises(ValueError, match="dim 3"):
        Trimmer().transform(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="0 sample"):
        Trimmer().transform([])


def test_int16_scaled():
    """Check int16 input is scaled to float32."""
    y = np.array([[0, 16384, -32768, 0]], dtype=np.int16)
    out = Trimmer(top_db=None).transform(y)
    assert out.dtype == np.float32
    assert_array_equal(out, [[0.0, 0.5, -1.0, 0.0]])


def test_pickle_round_trip(rng):
    """Check a pickled Trimmer gives the same output."""
    X = rng.standard_normal((2, 3000))
    tr = Trimmer(sr=SR, duration=0.2, crop="random", random_state=3).fit(X)
    assert_array_equal(pickle.loads(pickle.dumps(tr)).transform(X), tr.transform(X))


def test_pipeline_pandas_output(rng):
    """Check Pipeline([Trimmer(duration=...), step]).set_output("pandas") gives a DataFrame."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = Pipeline([
        ("trim", Trimmer(sr=SR, duration=0.01)),
        ("stats", FunctionTransformer(lambda X: np.c_[np.mean(X, 1), np.std(X, 1)],
                                      feature_names_out=lambda *_: np.array(["mean", "std"]))),
    ]).set_output(transform="pandas")
    X = [rng.standard_normal(n) for n in (100, 300)]
    out = pipe.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["mean", "std"] and out.shape == (2, 2)
    names = Trimmer(sr=SR, duration=0.01).fit(np.zeros((2, 5))).get_feature_names_out()
    assert len(names) == 80
