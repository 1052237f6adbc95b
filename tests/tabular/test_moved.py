"""The tabular transformers' old import paths keep working, with a FutureWarning."""

import importlib
import warnings

import pytest

import sklaudio
import sklaudio.tabular

MOVED = [
    ("sklaudio.features", "LogFeatures"),
    ("sklaudio.features", "SelectFeatures"),
    ("sklaudio.preprocessing", "YeoJohnsonTransformer"),
]


# each moved name's warning and object: tests/utils/test_old_paths.py


@pytest.mark.parametrize("name", ["LogFeatures", "SelectFeatures", "YeoJohnsonTransformer"])
def test_top_level_names_point_at_tabular_without_warning(name):
    """Check sklaudio.<name> is the tabular class; the top level is not a moved path."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert getattr(sklaudio, name) is getattr(sklaudio.tabular, name)
    assert getattr(sklaudio, name).__module__.startswith("sklaudio.tabular.")


def test_unknown_names_still_raise_attribute_error():
    """Check a misspelt name raises AttributeError, not a warning or None."""
    for old, _ in MOVED:
        with pytest.raises(AttributeError, match="LogFeaturez"):
            getattr(importlib.import_module(old), "LogFeaturez")


def test_common_checks_collect_each_tabular_class_once_from_tabular():
    """Check tests/test_common.py finds the three classes, from sklaudio.tabular only."""
    from tests.test_common import all_estimators

    found = [c for c in all_estimators()
             if c.__name__ in {"LogFeatures", "SelectFeatures", "YeoJohnsonTransformer"}]
    assert sorted(c.__name__ for c in found) == [
        "LogFeatures", "SelectFeatures", "YeoJohnsonTransformer"]
    assert all(c.__module__.startswith("sklaudio.tabular.") for c in found)


def test_moved_names_helper_serves_warns_and_refuses():
    """Check moved_names: the object from its new module, a FutureWarning, else AttributeError."""
    from sklaudio.utils._moved import moved_names

    getter = moved_names("old.place", {"YeoJohnsonTransformer": "sklaudio.tabular"})
    with pytest.warns(FutureWarning, match=r"old\.place\.YeoJohnsonTransformer has moved to "
                                           r"sklaudio\.tabular\.YeoJohnsonTransformer"):
        assert getter("YeoJohnsonTransformer") is sklaudio.tabular.YeoJohnsonTransformer
    with pytest.raises(AttributeError, match="module 'old.place' has no attribute 'nothing'"):
        getter("nothing")
