"""The age/gender experiment: the seed pipeline, its grid, targets, and the end-to-end run."""

from sklaudio.experiment._pipeline import (
    FEATURE_STEPS,
    VOICE_FEATURES,
    age_gender_param_grid,
    make_age_gender_pipeline,
    search_with_cached_features,
)
from sklaudio.experiment._run import plot_confusion_matrix, run_experiment
from sklaudio.experiment._speakers import predict_per_speaker, speaker_mean
from sklaudio.experiment._targets import AGE_SCHEMES, bucket_ages, mean_absolute_bucket_error

__all__ = [
    "AGE_SCHEMES",
    "FEATURE_STEPS",
    "VOICE_FEATURES",
    "age_gender_param_grid",
    "bucket_ages",
    "make_age_gender_pipeline",
    "mean_absolute_bucket_error",
    "plot_confusion_matrix",
    "predict_per_speaker",
    "run_experiment",
    "search_with_cached_features",
    "speaker_mean",
]
