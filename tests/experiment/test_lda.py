"""Tests of BalancedLDA against scikit-learn's LinearDiscriminantAnalysis."""

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import recall_score

from sklaudio.experiment import BalancedLDA


def _unbalanced(rng, sizes=(150, 40, 10), shift=1.0):
    """Three overlapping Gaussian classes of very different sizes, in 5 dimensions."""
    X = np.concatenate([rng.normal(shift * i, 1.0, (n, 5)) for i, n in enumerate(sizes)])
    y = np.repeat(["a", "b", "c"], sizes)
    return X, y


@pytest.mark.parametrize("shrinkage", [0.0, 0.3, 1.0, "auto"])
@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_equals_sklearn_lda_with_priors_one_over_the_classes(shrinkage, solver):
    """Check every output against LinearDiscriminantAnalysis given priors 1/3 by hand."""
    X, y = _unbalanced(np.random.default_rng(0))
    ref = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage,
                                     priors=[1 / 3] * 3).fit(X, y)
    model = BalancedLDA(shrinkage=shrinkage, solver=solver).fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(model.lda_.priors_, [1 / 3] * 3)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_allclose(model.predict_log_proba(X), ref.predict_log_proba(X))
    np.testing.assert_allclose(model.decision_function(X), ref.decision_function(X))
    np.testing.assert_array_equal(model.predict(X), ref.predict(X))


def test_equal_priors_find_more_of_the_small_class_than_size_priors():
    """Check the point of the model: with class sizes 150 / 40 / 10, LDA with priors from
    the sizes recalls the smallest class less often than with equal priors, and the
    balanced accuracy (mean recall) is higher with equal priors."""
    X, y = _unbalanced(np.random.default_rng(1))
    plain = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.1).fit(X, y).predict(X)
    equal = BalancedLDA(shrinkage=0.1).fit(X, y).predict(X)
    per_class = dict(labels=["a", "b", "c"], average=None)
    assert recall_score(y, equal, **per_class)[2] > recall_score(y, plain, **per_class)[2]
    assert recall_score(y, equal, average="macro") > recall_score(y, plain, average="macro")


def test_one_class_is_refused_with_the_count():
    X = np.random.default_rng(2).normal(size=(10, 3))
    with pytest.raises(ValueError, match="y has 1 class; BalancedLDA needs at least 2"):
        BalancedLDA().fit(X, ["a"] * 10)
