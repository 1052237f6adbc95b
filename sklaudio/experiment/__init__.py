"""The age/gender application: its pipeline and grid, and the end-to-end experiment.

The reusable parts it is built on live elsewhere: corpora and age schemes in
:mod:`sklaudio.datasets`, the cached grid search and per-speaker answers in
:mod:`sklaudio.model_selection`. Their old names here still work, with a FutureWarning.
"""


from sklaudio.experiment._age import OrdinalBucketRegressor
from sklaudio.experiment._lda import BalancedLDA
from sklaudio.experiment._pipeline import (
    EMBEDDING_FEATURES,
    FEATURE_STEPS,
    VOICE_FEATURES,
    age_gender_param_grid,
    make_age_gender_pipeline,
    make_pca,
)
from sklaudio.experiment._report import plot_confusion_matrix
from sklaudio.experiment._run import run_experiment
from sklaudio.experiment._targets import (
    TARGETS,
    check_experiment,
    choose_age_scheme,
    choose_targets,
    make_target,
)
from sklaudio.utils._moved import moved_names

__all__ = [
    "BalancedLDA",
    "EMBEDDING_FEATURES",
    "FEATURE_STEPS",
    "OrdinalBucketRegressor",
    "TARGETS",
    "VOICE_FEATURES",
    "age_gender_param_grid",
    "check_experiment",
    "choose_age_scheme",
    "choose_targets",
    "make_age_gender_pipeline",
    "make_pca",
    "make_target",
    "plot_confusion_matrix",
    "run_experiment",
]

# names that moved (issue 11): old name -> new module
_MOVED = {
    "AGE_SCHEMES": "sklaudio.datasets",
    "bucket_ages": "sklaudio.datasets",
    "mean_absolute_bucket_error": "sklaudio.datasets",
    "StepCache": "sklaudio.model_selection",
    "predict_per_speaker": "sklaudio.model_selection",
    "search_with_cached_features": "sklaudio.model_selection",
    "speaker_mean": "sklaudio.model_selection",
}


__getattr__ = moved_names(__name__, _MOVED)
