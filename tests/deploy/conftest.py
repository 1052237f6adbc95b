"""A small fitted age/gender model, shared by the bundle, predict and service tests."""

import pytest

from sklaudio.datasets import make_voices
from sklaudio.experiment import make_age_gender_pipeline


@pytest.fixture(scope="session")
def voices(tmp_path_factory):
    """Eight short synthetic utterances of four speakers, written as WAV files."""
    folder = tmp_path_factory.mktemp("voices")
    return make_voices(n_speakers=4, n_clips_per_speaker=2, duration=(0.8, 0.8),
                       path=folder, random_state=0)


@pytest.fixture(scope="session")
def gender_model(voices):
    """The age/gender pipeline (without the slow Denoiser) fitted on the voices' paths."""
    import warnings

    pipe = make_age_gender_pipeline(denoise=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quality warnings of synthetic pauses
        return pipe.fit(voices.paths, voices.frame["gender"])


@pytest.fixture(scope="session")
def gender_bundle(gender_model, voices, tmp_path_factory):
    from sklaudio.deploy import save_model

    path = tmp_path_factory.mktemp("bundle") / "gender.sklaudio"
    save_model(gender_model, path, X=voices.paths, y=voices.frame["gender"])
    return path


def clips_of(paths, sr=16000):
    from sklaudio.io import load_audio

    return [load_audio(p, sr=sr)[0] for p in paths]


def quality_flags(clips, sr=16000, empty=None):
    """The quality flags sklaudio.features.assess_quality gives (issue 12's contract)."""
    import sklaudio.features

    assess = getattr(sklaudio.features, "assess_quality", None)
    if assess is None:  # before the quality module lands, rows carry no flag
        return [empty] * len(clips)
    return assess(list(clips), sr)["quality"].tolist()
