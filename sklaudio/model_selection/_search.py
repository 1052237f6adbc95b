"""Grid search over an audio pipeline that computes its stateless audio steps once."""

import time
import warnings

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from sklaudio.model_selection._cache import StepCache

__all__ = ["cacheable_prefix", "is_cacheable", "search_with_cached_features"]


def is_cacheable(step):
    """Whether a pipeline step's output may be computed once for every fold.

    A step is cacheable when it is ``"passthrough"`` / None, when its class declares
    ``_sklaudio_cacheable = True`` (stateless, deterministic audio steps: the loader,
    Denoiser, Trimmer, the feature extractors that learn nothing), or when it is a
    :class:`~sklearn.pipeline.Pipeline` or :class:`~sklearn.pipeline.FeatureUnion` of
    cacheable steps only. Names never matter; a step that learns from the data (such
    as :class:`~sklaudio.features.MelCodebook`) is not cacheable.

    Parameters
    ----------
    step : estimator, "passthrough" or None
        One step of a pipeline.

    Returns
    -------
    cacheable : bool
        True when the step's output may be computed once for every fold.

    See Also
    --------
    cacheable_prefix : How many leading steps of a pipeline are cacheable.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklaudio.io import AudioLoader
    >>> from sklaudio.model_selection import is_cacheable
    >>> is_cacheable(AudioLoader()), is_cacheable(StandardScaler()), is_cacheable("passthrough")
    (True, False, True)
    """
    if step is None or (isinstance(step, str) and step in ("passthrough", "drop")):
        return True
    if isinstance(step, Pipeline):
        return all(is_cacheable(s) for _, s in step.steps)
    if isinstance(step, FeatureUnion):
        return all(is_cacheable(s) for _, s in step.transformer_list)
    # a class attribute, so that an instance cannot claim it by accident
    return getattr(type(step), "_sklaudio_cacheable", False) is True


def cacheable_prefix(pipeline):
    """Number of leading steps of ``pipeline`` that are all cacheable.

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline whose leading steps are examined.

    Returns
    -------
    n_steps : int
        ``pipeline[:n_steps]`` learns nothing from the data, so its output can be
        computed once for a whole grid search.

    See Also
    --------
    is_cacheable : The rule for one step.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklaudio.io import AudioLoader
    >>> from sklaudio.model_selection import cacheable_prefix
    >>> cacheable_prefix(make_pipeline(AudioLoader(), StandardScaler(), LogisticRegression()))
    1
    """
    n = 0
    for _, step in pipeline.steps:
        if not is_cacheable(step):
            break
        n += 1
    return n


def _split(pipeline, param_grid):
    """The cacheable front steps and the searched back steps; refuse tuning the front."""
    cut = cacheable_prefix(pipeline)
    # the last step is the model: it is always searched, even when it learns nothing
    cut = min(cut, len(pipeline.steps) - 1)
    front, back = pipeline.steps[:cut], pipeline.steps[cut:]
    front_names = {name for name, _ in front}
    grids = param_grid if isinstance(param_grid, list) else [param_grid]
    for grid in grids:
        for key in grid:
            if key.split("__")[0] in front_names:
                raise ValueError(
                    f"param_grid tunes {key!r}, a step whose output is computed once for "
                    "the whole search (a stateless audio step): its output would have to "
                    "be recomputed for each grid point. Use GridSearchCV on the whole "
                    "pipeline for that, or tune only the later steps."
                )
    return front, back


def search_with_cached_features(pipeline, param_grid, X, y, *, groups=None, cv=5,
                                scoring=None, n_jobs=None, features=None, refit=True,
                                memory="auto"):
    """Grid search over the model steps of an audio pipeline, extracting features once.

    The leading steps that learn nothing from the data (see :func:`is_cacheable`:
    the loader, Denoiser, Trimmer and the stateless feature extractors, whatever
    their names) give the same output for every clip in every fold and at every grid
    point. This computes that output once, runs
    :class:`~sklearn.model_selection.GridSearchCV` over the remaining steps, and
    returns the whole pipeline with the best model steps, fitted. A step that learns
    (for instance :class:`~sklaudio.features.MelCodebook`) and everything after it
    is fitted inside each fold, never on the held-out clips.

    Parameters
    ----------
    pipeline : Pipeline
        For instance :func:`~sklaudio.experiment.make_age_gender_pipeline`.
    param_grid : dict or list of dict
        Grid over the steps after the cacheable ones (prefixes as in the pipeline).
    X : sequence of paths or clips
        Input of the pipeline.
    y : array-like of shape (n_clips,)
        Target.
    groups : array-like of shape (n_clips,), default=None
        Speaker of each clip, for a group-aware ``cv`` such as StratifiedGroupKFold.
    cv : int or cross-validation generator, default=5
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    scoring : str or callable, default=None
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    n_jobs : int, default=None
        Grid points fitted in parallel (processes). The features are computed once in
        this process and shared; each worker keeps its own cache of fitted steps.
    features : array-like or DataFrame of shape (n_clips, n_features), default=None
        The cacheable steps' output for ``X``, if already computed; computed when
        None.
    refit : bool, default=True
        Fit the best model on all of ``X``.
    memory : "auto", None, str or joblib.Memory, default="auto"
        Cache of the fitted transformers of the searched steps (``Pipeline(memory=)``):
        grid points that differ only in the last step's parameters (the values of C)
        reuse the fitted transformers of their fold. "auto" keeps them in memory for
        this search (:class:`StepCache`); None caches nothing.

    Returns
    -------
    search : GridSearchCV
        Fitted on the features. Its ``best_estimator_`` is the *whole* pipeline (the
        cacheable steps included), so it predicts from paths or clips; ``features_``
        holds the computed features, ``feature_time_`` the seconds they took,
        ``n_cached_steps_`` how many leading steps were computed once and
        ``n_grid_points_`` the size of the grid.

    Raises
    ------
    ValueError
        When ``param_grid`` tunes a cacheable step.

    See Also
    --------
    is_cacheable : Which steps are computed once.
    StepCache : The in-memory cache of fitted steps.

    Notes
    -----
    Warnings of the fits (scikit-learn's ``ConvergenceWarning`` among them) reach the
    caller when ``n_jobs`` is None or 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklaudio.features import TemporalFeatures
    >>> from sklaudio.model_selection import search_with_cached_features
    >>> t = np.arange(8000) / 8000
    >>> vowel = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    >>> clips = [a * vowel for a in (0.05, 0.4) * 6]
    >>> y = ["quiet", "loud"] * 6
    >>> pipe = Pipeline([("feats", TemporalFeatures(sr=8000)), ("scale", StandardScaler()),
    ...                  ("clf", LogisticRegression())])
    >>> search = search_with_cached_features(pipe, {"clf__C": [0.1, 1.0]}, clips, y, cv=3)
    >>> search.n_grid_points_, search.best_estimator_.predict(clips[:2]).tolist()
    (2, ['quiet', 'loud'])
    """
    front, back = _split(pipeline, param_grid)
    front_pipe = clone(Pipeline(front)) if front else None
    start = time.perf_counter()
    if features is None:
        features = front_pipe.fit_transform(X, y) if front_pipe is not None else X
    elif front_pipe is not None:
        front_pipe.fit(X[:1], y[:1])  # the stateless steps only validate their settings
    feature_time = time.perf_counter() - start
    back_pipe = clone(Pipeline(back))
    cache = StepCache() if isinstance(memory, str) and memory == "auto" else memory
    back_pipe.set_params(memory=cache)
    search = GridSearchCV(back_pipe, param_grid, cv=cv, scoring=scoring, n_jobs=n_jobs,
                          refit=refit, error_score="raise")
    # The model steps fit tables of a few hundred rows, where multi-threaded BLAS only
    # adds synchronisation: on a busy 2-core machine the 60-point grid on librispeech-251
    # took 36-102 s with 2 BLAS threads and 6-7 s with one. Worker processes (n_jobs)
    # are limited by joblib already.
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        # only joblib.Memory's note that hashing an input was slow; every other warning
        # (ConvergenceWarning among them) reaches the user
        warnings.filterwarnings("ignore", message="Persisting input arguments took",
                                category=UserWarning)
        search.fit(features, y, groups=groups)
    if isinstance(cache, StepCache):
        cache.clear()
    if refit:
        best = search.best_estimator_.set_params(memory=None)
        steps = (front_pipe.steps if front_pipe is not None else []) + best.steps
        search.best_estimator_ = Pipeline(steps)
    search.features_ = features
    search.feature_time_ = feature_time
    search.n_cached_steps_ = len(front)
    search.n_grid_points_ = len(ParameterGrid(param_grid))
    return search
