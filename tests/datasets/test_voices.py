"""Tests of the synthetic voice corpus."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal

from sklaudio.datasets import COMMON_VOICE_AGES, age_to_bucket, make_voices, synthesize_voice


def test_make_voices_is_deterministic_and_labelled():
    """Check that one seed gives the same corpus sample for sample, and labels line up."""
    a = make_voices(6, n_clips_per_speaker=3, duration=(0.5, 0.8), random_state=3)
    b = make_voices(6, n_clips_per_speaker=3, duration=(0.5, 0.8), random_state=3)
    assert len(a.clips) == 18 and a.clips.sr == 16000
    for x, y in zip(a.clips, b.clips):
        assert_array_equal(x, y)
    assert_array_equal(a.groups, np.repeat([f"spk{i:03d}" for i in range(6)], 3))
    assert a.frame.gender.tolist() == ["female"] * 3 + ["male"] * 3 + ["female"] * 3 + [
        "male"
    ] * 3 + ["female"] * 3 + ["male"] * 3
    c = make_voices(6, n_clips_per_speaker=3, duration=(0.5, 0.8), random_state=4)
    assert not all(len(x) == len(y) and np.allclose(x, y) for x, y in zip(a.clips, c.clips))


def test_voice_f0_follows_gender_and_age():
    """Check with librosa.yin that adult female voices sit about an octave above male ones
    and that children's voices are high for both genders."""
    librosa = pytest.importorskip("librosa")

    def median_f0(gender, age, seed):
        y = synthesize_voice(gender=gender, age=age, duration=1.2, snr_db=None,
                             silence=(0.0, 0.0), random_state=seed)
        f0 = librosa.yin(y, fmin=60, fmax=500, sr=16000, frame_length=1024)
        return np.median(f0)

    male = np.median([median_f0("male", 35, s) for s in range(4)])
    female = np.median([median_f0("female", 35, s) for s in range(4)])
    child = np.median([median_f0("male", 8, s) for s in range(4)])
    assert 95 < male < 145
    assert 180 < female < 250
    assert child > 220


def test_leading_and_trailing_silence_and_noise_level():
    """Check the silence added around the voice: without noise the edges are exactly zero."""
    y = synthesize_voice(gender="male", age=40, duration=1.0, snr_db=None,
                         silence=(0.25, 0.25), random_state=0)
    sr = 16000
    assert len(y) == pytest.approx(1.5 * sr, abs=2)
    assert np.all(y[: int(0.24 * sr)] == 0) and np.all(y[-int(0.24 * sr):] == 0)
    assert np.abs(y).max() == pytest.approx(0.9, rel=1e-6)


def test_make_voices_writes_a_manifest(tmp_path):
    """Check that the WAV files and manifest.csv written hold the same audio and labels."""
    data = make_voices(3, n_clips_per_speaker=1, duration=(0.5, 0.5), path=tmp_path,
                       random_state=1)
    manifest = pd.read_csv(tmp_path / "manifest.csv")
    assert manifest.path.tolist() == ["spk000_0.wav", "spk001_0.wav", "spk002_0.wav"]
    assert manifest.gender.tolist() == data.frame.gender.tolist()
    y, sr = sf.read(tmp_path / "spk001_0.wav")
    assert sr == 16000
    np.testing.assert_allclose(y, data.clips[1], atol=1 / 32768 + 1e-6)


def test_age_to_bucket():
    """Check Common Voice's bucket edges and the error for ages outside them."""
    out = age_to_bucket([13, 19, 20, 29, 30, 65, 99])
    assert list(out) == ["teens", "teens", "twenties", "twenties", "thirties", "sixties",
                         "nineties"]
    assert list(out.categories) == list(COMMON_VOICE_AGES) and out.ordered
    with pytest.raises(ValueError, match="age 8.0 has no Common Voice bucket"):
        age_to_bucket([30, 8])


@pytest.mark.parametrize("kwargs, msg", [
    (dict(gender="other", age=30), "gender='other'"),
    (dict(gender="male", age=1), "age=1"),
])
def test_synthesize_voice_rejects_bad_labels(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        synthesize_voice(**kwargs)
