"""The names that moved to sklaudio.datasets and sklaudio.model_selection (issue 11)
still work from their old paths, with a FutureWarning naming the new one."""

import importlib

import pytest

MOVED = [
    ("sklaudio.io", "read_dataset", "sklaudio.datasets"),
    ("sklaudio.io", "read_common_voice", "sklaudio.datasets"),
    ("sklaudio.io", "read_common_voice_csv", "sklaudio.datasets"),
    ("sklaudio.io", "read_librispeech", "sklaudio.datasets"),
    ("sklaudio.io", "read_folder", "sklaudio.datasets"),
    ("sklaudio.io", "read_manifest", "sklaudio.datasets"),
    ("sklaudio.io", "Manifest", "sklaudio.datasets"),
    ("sklaudio.io", "AGE_BUCKETS", "sklaudio.datasets"),
    ("sklaudio.experiment", "AGE_SCHEMES", "sklaudio.datasets"),
    ("sklaudio.experiment", "bucket_ages", "sklaudio.datasets"),
    ("sklaudio.experiment", "mean_absolute_bucket_error", "sklaudio.datasets"),
    ("sklaudio.experiment", "search_with_cached_features", "sklaudio.model_selection"),
    ("sklaudio.experiment", "StepCache", "sklaudio.model_selection"),
    ("sklaudio.experiment", "predict_per_speaker", "sklaudio.model_selection"),
    ("sklaudio.experiment", "speaker_mean", "sklaudio.model_selection"),
]


@pytest.mark.parametrize("old, name, new", MOVED)
def test_old_path_warns_and_gives_the_same_object(old, name, new):
    with pytest.warns(FutureWarning, match=rf"{old}\.{name} has moved to {new}\.{name}"):
        obj = getattr(importlib.import_module(old), name)
    assert obj is getattr(importlib.import_module(new), name)


def test_from_import_of_an_old_name_warns():
    with pytest.warns(FutureWarning, match="sklaudio.datasets.read_dataset"):
        from sklaudio.io import read_dataset  # noqa: F401


def test_unknown_names_still_raise_attribute_error():
    import sklaudio.experiment
    import sklaudio.io

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sklaudio.io.nope  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sklaudio.experiment.nope  # noqa: B018


def test_age_schemes_are_one_table():
    """Check Common Voice's buckets are defined once: readers, synthetic corpus and
    bucketing share the AGE_SCHEMES entry."""
    from sklaudio.datasets import AGE_BUCKETS, AGE_SCHEMES, COMMON_VOICE_AGES

    assert AGE_BUCKETS is COMMON_VOICE_AGES is AGE_SCHEMES["common_voice"].labels
