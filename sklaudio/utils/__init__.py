"""Utilities: the audio input contract, and helpers shared by sklaudio's estimators."""

from sklaudio.utils._audio import (
    DEFAULT_SR,
    AudioTransformerMixin,
    ClipArray,
    carried_sr,
    check_clips,
    map_clips,
    resolve_sr,
    to_float,
    validate_clips,
    wrap_clips,
)

__all__ = [
    "DEFAULT_SR",
    "AudioTransformerMixin",
    "ClipArray",
    "carried_sr",
    "check_clips",
    "map_clips",
    "resolve_sr",
    "to_float",
    "validate_clips",
    "wrap_clips",
]
