"""The names that moved to sklaudio.datasets and sklaudio.model_selection (issue 11)
still work from their old paths, with a FutureWarning naming the new one."""

import pytest

# each moved name's warning and object: tests/utils/test_old_paths.py


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
