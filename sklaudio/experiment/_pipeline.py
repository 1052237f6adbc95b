"""The age/gender pipeline and its grid."""

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import QuantileTransformer, RobustScaler
from sklearn.svm import SVR

__all__ = [
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


def make_age_gender_pipeline(*, task="classification", sr=16000, denoise=True, trim=True,
                             embedding=False, select=None, scaler="robust", pca=False,
                             C=1.0, alpha=1.0, regressor="svr", model=None, n_jobs=None,
                             verbose=0):
    """Build the pipeline that predicts a speaker's gender or age from recordings.

    loader -> Denoiser -> Trimmer -> FeatureUnion(MelFeatures, F0Stats, TemporalFeatures,
    FormantFeatures) -> SelectFeatures -> LogFeatures -> scaler -> PCA ->
    LogisticRegression(class_weight="balanced") (for age in years: an RBF SVR, or the
    a Ridge).

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
    scaler : {"robust", "power", "quantile"}, default="robust"
        RobustScaler, a Yeo-Johnson power transform (sklaudio's
        :class:`~sklaudio.tabular.YeoJohnsonTransformer`, which gives the lambdas
        of sklearn's PowerTransformer but fits all columns at once) or
        QuantileTransformer (uniform output).
    pca : bool, default=False
        Add PCA(n_components=0.99) on standardised columns before the model (see
        :func:`make_pca`).
    C : float, default=1.0
        Inverse regularisation of the logistic regression, or of the SVR.
    alpha : float, default=1.0
        Regularisation of the ridge regression (``regressor="ridge"``).
    regressor : {"svr", "ridge"}, default="svr"
        Model for ``task="regression"``: ``SVR(C=C, epsilon=0.5)`` (RBF kernel; age in
        years is not linear in f0 and formants) or ``Ridge(alpha=alpha)``.
    model : estimator, default=None
        Any other last step; overrides ``C``, ``alpha`` and ``regressor``.
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
        model = LogisticRegression(class_weight="balanced", C=C, max_iter=5000)
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
        ("log", LogFeatures(columns="auto")),
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
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("standardize", StandardScaler()),
                     ("pca", PCA(n_components=0.99, svd_solver="full"))])


def _make_scaler(name):
    from sklaudio.tabular import YeoJohnsonTransformer

    scalers = {
        "robust": RobustScaler,
        # sklearn's PowerTransformer(method="yeo-johnson"), same lambdas, fitted ~50x faster
        "power": YeoJohnsonTransformer,
        # uniform output: the normal one calls scipy's ppf per column, 10x slower to transform
        "quantile": lambda: QuantileTransformer(n_quantiles=100),
    }
    if name not in scalers:
        raise ValueError(f"scaler={name!r}; expected one of {sorted(scalers)}.")
    return scalers[name]()


def age_gender_param_grid(*, task="classification", n_C=10, select=True, regressor="svr"):
    """The grid of scaler x PCA x regularisation, plus which features to use.

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

    Returns
    -------
    param_grid : dict
        For :class:`~sklearn.model_selection.GridSearchCV` over
        :func:`make_age_gender_pipeline` (built with the same ``task``).

    Examples
    --------
    >>> from sklearn.model_selection import ParameterGrid
    >>> from sklaudio.experiment import age_gender_param_grid
    >>> len(ParameterGrid(age_gender_param_grid()))
    120
    >>> len(ParameterGrid(age_gender_param_grid(select=False)))  # without the column choice
    60
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
        grid["clf__C"] = list(np.logspace(-3, 2, n_C))
    elif regressor == "ridge":
        grid["clf__alpha"] = list(np.logspace(-2, 3, n_C))
    else:
        grid["clf__C"] = list(np.logspace(-1, 2.5, n_C))
    return grid
