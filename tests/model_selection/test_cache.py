import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler

from sklaudio.model_selection import StepCache
from sklaudio.model_selection._cache import _digest


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = (X[:, 0] + 0.5 * rng.randn(60) > 0).astype(int)
    return X, y


def _pipe(memory):
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())],
                    memory=memory)


def test_grid_fits_each_transformer_once_per_fold(data):
    X, y = data
    cache = StepCache()
    grid = {"scale": [StandardScaler(), RobustScaler()], "clf__C": [0.01, 0.1, 1.0, 10.0]}
    cv = StratifiedKFold(3)
    cached = GridSearchCV(_pipe(cache), grid, cv=cv).fit(X, y)
    # 2 scalers x 3 folds + 2 scalers for the refit on all rows
    assert cache.misses == 2 * 3 + 1
    assert cache.hits == 8 * 3 - 2 * 3
    plain = GridSearchCV(_pipe(None), grid, cv=cv).fit(X, y)
    np.testing.assert_allclose(cached.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X), atol=1e-12)


def test_changed_data_or_params_miss(data):
    X, y = data
    cache = StepCache()
    _pipe(cache).fit(X, y)
    _pipe(cache).fit(X, y)
    assert (cache.hits, cache.misses) == (1, 1)
    X2 = X.copy()
    X2[3, 2] += 1e-9  # one value in one row
    _pipe(cache).fit(X2, y)
    assert cache.misses == 2
    _pipe(cache).set_params(scale__with_mean=False).fit(X, y)
    assert cache.misses == 3


def test_clone_shares_and_pickle_empties(data):
    X, y = data
    cache = StepCache()
    pipe = _pipe(cache).fit(X, y)
    assert clone(pipe).memory is cache
    assert copy.deepcopy(cache) is cache
    restored = pickle.loads(pickle.dumps(pipe))
    assert restored.memory is not cache
    assert (restored.memory.hits, restored.memory.misses) == (0, 0)
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))
    cache.clear()
    _pipe(cache).fit(X, y)
    assert cache.misses == 2


def test_digest_tells_labels_and_column_names_apart():
    """Check the cache key: equal content gives equal digests, any change in values,
    string labels or DataFrame column names a different one."""
    y = np.array(["female", "male", "male"], dtype=object)
    assert _digest(y) == _digest(y.copy())
    assert _digest(y) != _digest(np.array(["female", "male", "female"], dtype=object))
    X = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=["f0__a", "mel__b"])
    assert _digest(X) == _digest(X.copy())
    assert _digest(X) != _digest(X.set_axis(["f0__a", "mel__c"], axis=1))
    assert _digest(X) != _digest(X + 1e-12)
    assert _digest(X) != _digest(X.to_numpy())  # names are part of a DataFrame's key
    # ragged clips: str() of a long array elides its middle, so they must not hash by str
    a, b = np.zeros(5000), np.zeros(5000)
    b[2500] = 1.0
    clips = np.empty(2, dtype=object)
    clips[:] = [a, np.ones(3)]
    other = np.empty(2, dtype=object)
    other[:] = [b, np.ones(3)]
    assert _digest(clips) != _digest(other)
