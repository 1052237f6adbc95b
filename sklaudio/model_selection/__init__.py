"""Model selection on audio: grid search that computes the stateless audio steps once,
an in-memory cache of fitted steps, one answer per speaker, and scores read against
chance (the chance level of a metric, a permutation test between speakers)."""

from sklaudio.model_selection._cache import StepCache
from sklaudio.model_selection._chance import chance_level, permutation_test
from sklaudio.model_selection._search import (
    cacheable_prefix,
    is_cacheable,
    search_with_cached_features,
)
from sklaudio.model_selection._speakers import predict_per_speaker, speaker_mean

__all__ = [
    "StepCache",
    "cacheable_prefix",
    "chance_level",
    "is_cacheable",
    "permutation_test",
    "predict_per_speaker",
    "search_with_cached_features",
    "speaker_mean",
]
