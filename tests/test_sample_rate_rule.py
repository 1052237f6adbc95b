"""The one sample-rate rule: a plain array means the rate the step was fitted at, for every step."""

import warnings

import numpy as np
import pytest

import sklaudio
from sklaudio.exceptions import ParameterError
from sklaudio.features import (
    AudioQuality,
    F0Stats,
    FormantFeatures,
    MelCodebook,
    MelFeatures,
    TemporalFeatures,
)
from sklaudio.preprocessing import Denoiser, Trimmer
from sklaudio.utils import ClipArray

SR = 16000  # not librosa's 22050: a step that falls back to 22050 gets it wrong


def _clips(speechlike, n=6):
    # a pause of 0.2 s before each vowel, so that trimming has work to do
    return [np.r_[np.zeros(SR // 5), speechlike(f0=100.0 + 30 * i, sr=SR, duration=0.6, seed=i)]
            for i in range(n)]


def test_trimmer_plain_array_uses_the_fitted_rate():
    """Check Trimmer(duration=0.5) fitted at 16 kHz gives 8000 samples for a plain array,
    as its get_feature_names_out promises (not 11025, half a second at 22050)."""
    X = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, SR))
    trim = Trimmer(duration=0.5).fit(ClipArray(X, sr=SR))
    out = trim.transform(X)
    assert out.shape == (2, 8000) and out.sr == SR
    assert len(trim.get_feature_names_out()) == out.shape[1]


STEPS = [
    Denoiser(),
    Trimmer(top_db=40),
    MelFeatures(),
    TemporalFeatures(),
    F0Stats(fmin=60.0, fmax=400.0),
    FormantFeatures(),
    AudioQuality(),
    MelCodebook(n_codewords=2, random_state=0),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_every_audio_step_reads_plain_arrays_at_its_fitted_rate(speechlike, step):
    """Check each audio step, fitted on 16 kHz clips, gives the same output for plain
    arrays as for the clips carrying 16 kHz, and refuses clips carrying another rate."""
    clips = _clips(speechlike, n=2)
    carried = ClipArray(clips, sr=SR)
    step.fit(carried)
    assert step.sr_ == SR
    expected = step.transform(carried)
    got = step.transform([np.asarray(c) for c in clips])
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ParameterError, match=f"fitted on clips at sr={SR}.*sr=22050"):
        step.transform(ClipArray(clips, sr=22050))


def test_default_pipeline_plain_arrays_equal_clip_arrays(speechlike):
    """Check the default age/gender pipeline fitted on a 16 kHz ClipArray gives the same
    probabilities for plain arrays as for the ClipArray, with and without its loader."""
    clips = _clips(speechlike)
    y = np.array(["female", "male"] * 3)
    carried = ClipArray(clips, sr=SR)
    plain = [np.asarray(c) for c in clips]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the synthetic vowels' quality is not the point here
        pipe = sklaudio.make_age_gender_pipeline(sr=SR).fit(carried, y)
        no_loader = pipe[1:]  # a user's own loaded arrays straight into the audio steps
        for model in (pipe, no_loader):
            expected = model.predict_proba(carried)
            np.testing.assert_array_equal(model.predict_proba(plain), expected)
        features = no_loader[:3]  # denoise, trim, features
        np.testing.assert_array_equal(features.transform(plain), features.transform(carried))
