"""The age/gender pipeline and its grid."""

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer, QuantileTransformer, RobustScaler, StandardScaler
from sklearn.svm import SVR

__all__ = [
    "EMBEDDING_FEATURES",
    "FEATURE_STEPS",
    "VOICE_FEATURES",
    "age_gender_param_grid",
    "make_age_gender_pipeline",
    "make_pca",
]

#: Names of the steps of :func:`make_age_gender_pipeline` that turn audio into features.
#: They learn nothing from the data (each declares it: see
#: :func:`sklaudio.model_selection.is_cacheable`), so their output can be computed once
#: for a whole grid.
FEATURE_STEPS = ("load", "denoise", "trim", "features")

#: Pattern of :class:`~sklaudio.tabular.SelectFeatures` that keeps the voice features of
#: :func:`make_age_gender_pipeline` (f0, formants and voice quality, rhythm) and drops the
#: mel / MFCC statistics: 37 of 533 columns. With 125 speakers (speechocean762), fewer
#: columns fit better; :func:`age_gender_param_grid` lets the inner CV choose.
VOICE_FEATURES = r"^(f0|formants|temporal)__"

#: Pattern of :class:`~sklaudio.tabular.SelectFeatures` that keeps only the speaker
#: encoder's columns (``make_age_gender_pipeline(embedding=True)``).
EMBEDDING_FEATURES = r"^embedding__"

#: Shrinkage values of :class:`~sklaudio.experiment.BalancedLDA` in the grid.
SHRINKAGES = (0.1, 0.3, 0.5, 0.7, 0.9)


def make_age_gender_pipeline(*, task="classification", sr=16000, denoise=True, trim=True,
                             embedding=False, select=None, log=True, scaler="robust",
                             pca=False,
                             C=1.0, alpha=1.0, shrinkage="auto", classifier="logistic",
                             regressor="svr", model=None, n_jobs=None, verbose=0):
    """Build the pipeline that predicts a speaker's gender or age from recordings.

    loader -> Denoiser -> Trimmer -> FeatureUnion(MelFeatures, F0Stats, TemporalFeatures,
    FormantFeatures) -> SelectFeatures -> LogFeatures -> scaler -> PCA ->
    LogisticRegression(class_weight="balanced") (for age in years: an RBF SVR, or
    a Ridge).

    The model that predicts adult age best needs the speaker encoder: its columns
    only, each row at unit length, and a shrunk discriminant with equal class priors::

        make_age_gender_pipeline(embedding=True, select=EMBEDDING_FEATURES, log=False,
                                 scaler="unit", classifier="lda", shrinkage=0.5)

    :func:`age_gender_param_grid` (``embedding=True``) lets the inner cross-validation
    choose between it and the other models; :func:`run_experiment` does so by default
    when the encoder's weights are installed.

    The feature union outputs a DataFrame (``set_output(transform="pandas")``), so the
    steps after it see column names such as ``f0__f0_median``.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
        Classification of gender or age groups, or regression of age in years.
    sr : int, default=16000
        Rate the loader resamples every file (or in-memory clip set) to.
    denoise, trim : bool, default=True
        Include the Denoiser / Trimmer steps (else "passthrough").
    embedding : bool, default=False
        Add :class:`~sklaudio.features.SpeakerEmbedding` (a pretrained speaker
        encoder's 256 numbers, columns ``embedding__embedding_000``...) to the feature
        union. Needs the encoder's weights (``pip install --no-deps resemblyzer``)
        and 16 kHz clips. It costs about as much time as the other four extractors
        together.
    select : str or None, default=None
        ``pattern`` of the :class:`~sklaudio.tabular.SelectFeatures` step: a regular
        expression on column names, None for all columns. :data:`VOICE_FEATURES` keeps
        the f0, formant and rhythm columns.
    log : bool, default=True
        Include the :class:`~sklaudio.tabular.LogFeatures` step (the log of skewed
        non-negative columns, such as energies); else "passthrough".
    scaler : {"robust", "power", "quantile", "unit", "unit-standard"}, default="robust"
        RobustScaler, a Yeo-Johnson power transform (sklaudio's
        :class:`~sklaudio.tabular.YeoJohnsonTransformer`, which gives the lambdas
        of sklearn's PowerTransformer but fits all columns at once),
        QuantileTransformer (uniform output) or each row scaled to unit length
        (:class:`~sklearn.preprocessing.Normalizer`: the speaker embedding's own scale,
        which a mean over a speaker's clips shortens); "unit-standard" then
        standardises each column.
    pca : bool, default=False
        Add PCA(n_components=0.99) on standardised columns before the model (see
        :func:`make_pca`).
    C : float, default=1.0
        Inverse regularisation of the logistic regression, or of the SVR.
    alpha : float, default=1.0
        Regularisation of the ridge regression (``regressor="ridge"``, and of the
        ordinal model's Ridge).
    shrinkage : "auto" or float in [0, 1], default="auto"
        Shrinkage of the discriminant's covariance (``classifier="lda"``).
    classifier : {"logistic", "lda", "ordinal"}, default="logistic"
        Model for ``task="classification"``: ``LogisticRegression(C=C,
        class_weight="balanced")``, :class:`BalancedLDA` (``shrinkage``; linear
        discriminant analysis with equal class priors), or
        :class:`OrdinalBucketRegressor` (age groups as ordered buckets: a balanced
        ``Ridge(alpha=alpha)`` on their positions, rounded back).
    regressor : {"svr", "ridge"}, default="svr"
        Model for ``task="regression"``: ``SVR(C=C, epsilon=0.5)`` (RBF kernel; age in
        years is not linear in f0 and formants) or ``Ridge(alpha=alpha)``.
    model : estimator, default=None
        Any other last step; overrides ``C``, ``alpha``, ``shrinkage``, ``classifier``
        and ``regressor``.
    n_jobs : int, default=None
        Parallel clips in the audio steps.
    verbose : int, default=0
        Progress bars of the audio steps.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted. Its ``fit`` and ``predict`` take file paths, or loaded clips (a
        :class:`~sklaudio.utils.ClipArray`, a list of arrays at ``sr``).

    See Also
    --------
    age_gender_param_grid : The grid over this pipeline.
    sklaudio.model_selection.search_with_cached_features : Grid search that extracts
        features only once.

    Examples
    --------
    >>> from sklaudio.experiment import make_age_gender_pipeline
    >>> pipe = make_age_gender_pipeline()
    >>> [name for name, _ in pipe.steps]
    ['load', 'denoise', 'trim', 'features', 'select', 'log', 'scaler', 'pca', 'clf']
    """
    from sklaudio.features import (
        F0Stats,
        FormantFeatures,
        MelFeatures,
        SpeakerEmbedding,
        TemporalFeatures,
    )
    from sklaudio.io import AudioLoader
    from sklaudio.preprocessing import Denoiser, Trimmer
    from sklaudio.tabular import LogFeatures, SelectFeatures

    if task not in ("classification", "regression"):
        raise ValueError(f"task={task!r}; expected 'classification' or 'regression'.")
    if regressor not in ("svr", "ridge"):
        raise ValueError(f"regressor={regressor!r}; expected 'svr' or 'ridge'.")
    if classifier not in ("logistic", "lda", "ordinal"):
        raise ValueError(f"classifier={classifier!r}; expected 'logistic', 'lda' or "
                         "'ordinal'.")
    features = FeatureUnion([
        # librosa's n_fft and n_mels: on librispeech-251 gender, 40 MFCCs over 128 mel
        # bands of a 2048-point STFT beat 20 over 40 bands of 512 points (0.968 vs 0.928)
        ("mel", MelFeatures(kind=("stats", "mfcc"), n_mfcc=40, hop_length=256,
                            n_jobs=n_jobs, verbose=verbose)),
        ("f0", F0Stats(fmin=50, fmax=500, n_jobs=n_jobs, verbose=verbose)),
        ("temporal", TemporalFeatures(n_jobs=n_jobs, verbose=verbose)),
        # vocal-tract resonances and voice quality: in nested speaker-grouped CV on
        # speechocean762 (children and adults, mean of 3 seeds) they took gender from
        # 0.738 to 0.751, age groups from 0.488 to 0.506 and MAE from 5.30 to 5.05 years
        ("formants", FormantFeatures(n_jobs=n_jobs, verbose=verbose)),
    ] + ([("embedding", SpeakerEmbedding(n_jobs=n_jobs, verbose=verbose))] if embedding else [])
    ).set_output(transform="pandas")  # names for SelectFeatures and LogFeatures
    if model is not None:
        model = clone(model)
    elif task == "classification":
        model = _make_classifier(classifier, C=C, alpha=alpha, shrinkage=shrinkage)
    elif regressor == "ridge":
        model = Ridge(alpha=alpha)
    else:
        model = SVR(C=C, epsilon=0.5)
    return Pipeline([
        ("load", AudioLoader(sr=sr, n_jobs=n_jobs, verbose=verbose)),
        ("denoise", Denoiser(n_jobs=n_jobs, verbose=verbose) if denoise else "passthrough"),
        ("trim", Trimmer(top_db=40, n_jobs=n_jobs, verbose=verbose) if trim else "passthrough"),
        ("features", features),
        ("select", SelectFeatures(pattern=select)),
        ("log", LogFeatures(columns="auto") if log else "passthrough"),
        ("scaler", _make_scaler(scaler)),
        ("pca", make_pca() if pca else "passthrough"),
        ("clf", model),
    ])


def make_pca():
    """PCA keeping 99 % of the variance of the standardised columns.

    Each column is scaled to unit variance first, so that the components follow the
    correlations between columns rather than their scales. After a RobustScaler a
    column that is nearly constant with a few outliers (its interquartile range close
    to 0) can reach a variance of 1e5 or more; PCA on the raw scale would then give
    that one column nearly all of the variance and keep a single component.

    Returns
    -------
    pca : Pipeline
        ``StandardScaler() -> PCA(n_components=0.99, svd_solver="full")``.

    See Also
    --------
    make_age_gender_pipeline : The pipeline whose ``pca`` step this is.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.experiment import make_pca
    >>> X = np.random.default_rng(0).normal(size=(50, 5))
    >>> X[:, 0] *= 1000  # one column on a huge scale
    >>> int(make_pca().fit(X)[-1].n_components_)
    5
    """
    return Pipeline([("standardize", StandardScaler()),
                     ("pca", PCA(n_components=0.99, svd_solver="full"))])


def _make_classifier(name, *, C=1.0, alpha=1.0, shrinkage="auto", categories=None):
    from sklaudio.experiment._age import OrdinalBucketRegressor
    from sklaudio.experiment._lda import BalancedLDA

    if name == "lda":
        return BalancedLDA(shrinkage=shrinkage)
    if name == "ordinal":
        return OrdinalBucketRegressor(regressor=Ridge(alpha=alpha), categories=categories,
                                      class_weight="balanced")
    return LogisticRegression(class_weight="balanced", C=C, max_iter=5000)


def _make_scaler(name):
    from sklaudio.tabular import YeoJohnsonTransformer

    scalers = {
        "robust": RobustScaler,
        # sklearn's PowerTransformer(method="yeo-johnson"), same lambdas, fitted ~50x faster
        "power": YeoJohnsonTransformer,
        # uniform output: the normal one calls scipy's ppf per column, 10x slower to transform
        "quantile": lambda: QuantileTransformer(n_quantiles=100),
        # the embedding's rows are unit vectors: a speaker's mean is shorter than its clips
        "unit": Normalizer,
        # the same, then each column standardised, for penalised models (equal penalty)
        "unit-standard": lambda: Pipeline([("unit", Normalizer()),
                                           ("standardize", StandardScaler())]),
    }
    if name not in scalers:
        raise ValueError(f"scaler={name!r}; expected one of {sorted(scalers)}.")
    return scalers[name]()


def age_gender_param_grid(*, task="classification", n_C=10, select=True, regressor="svr",
                          embedding=False, categories=None):
    """The grid of scaler x PCA x regularisation, plus which features and which model.

    Without the speaker embedding, one grid over the default pipeline. With it
    (``embedding=True``), a list of grids the inner cross-validation chooses from:
    that grid (all columns, the embedding's included, or the voice columns), and
    models on the embedding's columns alone, each row at unit length: a logistic
    regression (or the regressor), :class:`BalancedLDA` over its shrinkage and, for
    ordered age groups (``categories``), :class:`OrdinalBucketRegressor`.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
        ``clf__C`` over ``logspace(-3, 2, n_C)`` for the logistic regression;
        for regression, see ``regressor``.
    n_C : int, default=10
        Number of regularisation values.
    select : bool, default=True
        Also search ``select__pattern`` over all columns (None) and
        :data:`VOICE_FEATURES`. Doubles the grid; the features are still extracted once.
    regressor : {"svr", "ridge"}, default="svr"
        For ``task="regression"``: an RBF :class:`~sklearn.svm.SVR` (``epsilon=0.5``
        years, ``clf__C`` over ``logspace(-1, 2.5, n_C)``), or a Ridge
        (``clf__alpha`` over ``logspace(-2, 3, n_C)``).
    embedding : bool, default=False
        The features hold the speaker encoder's columns
        (``make_age_gender_pipeline(embedding=True)``): add the models on them.
    categories : sequence of str or None, default=None
        The age groups in order, youngest first: adds the ordinal model
        (classification only; its Ridge's ``alpha`` over ``logspace(-1, 4, n_C)``).

    Returns
    -------
    param_grid : dict or list of dict
        For :class:`~sklearn.model_selection.GridSearchCV` over
        :func:`make_age_gender_pipeline` (built with the same ``task`` and
        ``embedding``).

    Examples
    --------
    >>> from sklearn.model_selection import ParameterGrid
    >>> from sklaudio.experiment import age_gender_param_grid
    >>> len(ParameterGrid(age_gender_param_grid()))
    120
    >>> len(ParameterGrid(age_gender_param_grid(select=False)))  # without the column choice
    60
    >>> len(ParameterGrid(age_gender_param_grid(embedding=True)))  # + 10 logistic, 5 LDA
    135
    """
    if regressor not in ("svr", "ridge"):
        raise ValueError(f"regressor={regressor!r}; expected 'svr' or 'ridge'.")
    grid = {
        "scaler": [_make_scaler("robust"), _make_scaler("power"), _make_scaler("quantile")],
        "pca": ["passthrough", make_pca()],
    }
    if select:
        # speechocean762 age: the voice columns alone do better; librispeech gender: all
        grid["select__pattern"] = [None, VOICE_FEATURES]
    if task == "classification":
        key, values = "clf__C", list(np.logspace(-3, 2, n_C))
    elif regressor == "ridge":
        key, values = "clf__alpha", list(np.logspace(-2, 3, n_C))
    else:
        key, values = "clf__C", list(np.logspace(-1, 2.5, n_C))
    grid[key] = values
    if not embedding:
        return grid
    # the embedding alone, without the log step (its columns are not skewed counts)
    emb = {"select__pattern": [EMBEDDING_FEATURES], "log": ["passthrough"],
           "pca": ["passthrough"]}
    grids = [grid, {**emb, "scaler": [_make_scaler("unit-standard")], key: values}]
    if task == "classification":
        # LDA's shrinkage assumes the raw scale of the columns: unit rows, not standardised
        grids.append({**emb, "scaler": [_make_scaler("unit")],
                      "clf": [_make_classifier("lda")], "clf__shrinkage": list(SHRINKAGES)})
        if categories is not None:
            grids.append({**emb, "scaler": [_make_scaler("unit-standard")],
                          "clf": [_make_classifier("ordinal", categories=list(categories))],
                          "clf__regressor__alpha": list(np.logspace(-1, 4, n_C))})
    return grids
