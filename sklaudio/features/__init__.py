"""Clip-level feature extractors: clips in, one row per clip out.

``LogFeatures`` and ``SelectFeatures`` (rows in, rows out) moved to
:mod:`sklaudio.tabular`; their old names here still work, with a FutureWarning.
"""

import importlib
import warnings

from sklaudio.features._codebook import MelCodebook
from sklaudio.features._corpus import extract_corpus
from sklaudio.features._embedding import SpeakerEmbedding
from sklaudio.features._f0 import F0Stats, estimate_f0
from sklaudio.features._formants import FormantFeatures, lpc_formants
from sklaudio.features._mel import MelFeatures
from sklaudio.features._quality import AudioQuality, abstain, assess_quality
from sklaudio.features._temporal import TemporalFeatures

__all__ = [
    "AudioQuality",
    "F0Stats",
    "FormantFeatures",
    "MelCodebook",
    "MelFeatures",
    "SpeakerEmbedding",
    "TemporalFeatures",
    "abstain",
    "assess_quality",
    "estimate_f0",
    "extract_corpus",
    "lpc_formants",
]

# names that moved to sklaudio.tabular (issue 11): old name -> new module
_MOVED = {"LogFeatures": "sklaudio.tabular", "SelectFeatures": "sklaudio.tabular"}


def __getattr__(name):
    if name in _MOVED:
        new = _MOVED[name]
        warnings.warn(
            f"sklaudio.features.{name} has moved to {new}.{name}; import it from there "
            f"(`from {new} import {name}`). The old path will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)
    raise AttributeError(f"module 'sklaudio.features' has no attribute {name!r}")
