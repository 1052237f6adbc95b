"""An in-process cache of fitted pipeline steps, for grid searches over small feature tables."""

import hashlib
import uuid
from collections import OrderedDict

import numpy as np
from joblib import hash as joblib_hash

__all__ = ["StepCache"]

# The stores of the caches unpickled in this process (a worker of a parallel search),
# by cache id: every batch of grid points a worker receives finds the fits of the
# earlier ones. Only the latest search's store is kept: a worker whose memory keeps
# growing is restarted by joblib (with a warning), which would lose the store anyway.
_STORES = OrderedDict()
_MAX_STORES = 1


def _store_for(cache_id):
    store = _STORES.pop(cache_id, None)
    if store is None:
        store = {}
    _STORES[cache_id] = store
    while len(_STORES) > _MAX_STORES:
        _STORES.popitem(last=False)
    return store


def _digest(a):
    """Content digest of an array (or None): cheap compared with joblib's pickling hash."""
    if a is None:
        return None
    columns = getattr(a, "columns", None)  # a DataFrame: its column names are part of it
    columns = None if columns is None else hash(tuple(map(str, columns)))
    a = np.asarray(a)
    if a.dtype == object:
        if not all(isinstance(v, str) for v in a.ravel()):
            return joblib_hash(a), columns
        # labels such as "female": fixed-width unicode hashes without pickling (only for
        # strings: str() of other objects, e.g. long arrays, elides and would collide)
        a = a.astype(str)
    # SHA-256 runs on the CPU's SHA extensions: 0.8 ms for a 250 x 533 table, where
    # BLAKE2b took 1.4 ms (the grid digests each fold's table for every fit)
    h = hashlib.sha256(np.ascontiguousarray(a).view(np.uint8).ravel())
    return (a.shape, a.dtype.str, h.hexdigest(), columns)


class StepCache:
    """joblib.Memory's ``cache`` interface, held in memory, for ``Pipeline(memory=...)``.

    In a grid search, pipelines that differ only in their last step's parameters fit the
    same transformers on the same fold again and again. ``Pipeline(memory=joblib.Memory)``
    avoids refitting them but pickles every input, output and fitted transformer to disk
    and hashes them with pickling; for a feature table of a few hundred rows that costs
    more than fitting a scaler. This cache keys each fit by the transformer's parameters
    and a SHA-256 digest of the input, and keeps the result in memory.

    In a parallel search (``GridSearchCV(n_jobs=2)``) the cache travels to the worker
    processes by its id only, and each worker keeps one store per id for all the grid
    points it receives, so a worker fits each transformer of a fold at most once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklaudio.model_selection import StepCache
    >>> cache = StepCache()
    >>> X, y = np.arange(20.0).reshape(10, 2), [0, 1] * 5
    >>> for C in (0.1, 1.0):
    ...     _ = make_pipeline(StandardScaler(), LogisticRegression(C=C), memory=cache).fit(X, y)
    >>> cache.hits, cache.misses
    (1, 1)
    """

    def __init__(self):
        self._id = uuid.uuid4().hex
        self._store = {}
        self.hits = 0
        self.misses = 0

    def cache(self, func, ignore=None, **kwargs):
        """Wrap ``func`` (a pipeline's fit-transform of one step) with this store.

        The interface of :meth:`joblib.Memory.cache`, which scikit-learn's ``Pipeline``
        calls for its ``memory`` parameter.

        Parameters
        ----------
        func : callable
            The function to cache, called as ``func(transformer, X, y, ...)``.
        ignore : list of str or None, default=None
            Keyword arguments that do not change the result.
        **kwargs : dict
            joblib's other options, which mean nothing in memory.

        Returns
        -------
        cached : callable
            ``func`` answering repeated calls from the store.
        """
        # joblib.Memory.cache's other options (verbose, mmap_mode) mean nothing in memory
        ignore = set(ignore or ())

        def cached(transformer, X, y=None, *args, **kw):
            # the transformer arrives unfitted (Pipeline clones it), so its parameters
            # identify the fit; callbacks and the calling pipeline do not change the result
            key_kw = {k: v for k, v in kw.items() if k not in ignore and k != "message"}
            key = (func.__name__, joblib_hash(transformer), _digest(X), _digest(y),
                   joblib_hash((args, key_kw)))
            if key in self._store:
                self.hits += 1
                return self._store[key]
            self.misses += 1
            out = func(transformer, X, y, *args, **kw)
            self._store[key] = out
            return out

        return cached

    def __deepcopy__(self, memo):
        # GridSearchCV clones each candidate pipeline, and clone deep-copies parameters
        # that are not estimators: a copy per candidate would never hit
        return self

    def __getstate__(self):
        # pickled (a fitted pipeline saved, a worker process): travel as an id only
        return {"_id": self._id}

    def __setstate__(self, state):
        self._id = state["_id"]
        self._store = _store_for(self._id)
        self.hits = 0
        self.misses = 0

    def clear(self):
        """Drop every cached fit (of this process)."""
        self._store.clear()
