"""Utilities: the audio input contract, and helpers shared by sklaudio's estimators."""

from sklaudio.utils._audio import (
    DEFAULT_SR,
    AudioTransformerMixin,
    ClipArray,
    carried_sr,
    check_clips,
    check_finite,
    check_sr,
    map_clips,
    resolve_sr,
    to_float,
    transform_sr,
    validate_clips,
    wrap_clips,
)

__all__ = [
    "DEFAULT_SR",
    "AudioTransformerMixin",
    "ClipArray",
    "carried_sr",
    "check_clips",
    "check_finite",
    "check_sr",
    "map_clips",
    "resolve_sr",
    "to_float",
    "transform_sr",
    "validate_clips",
    "wrap_clips",
]
