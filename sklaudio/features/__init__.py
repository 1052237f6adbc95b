"""Clip-level feature extractors: clips in, one row per clip out.

``LogFeatures`` and ``SelectFeatures`` (rows in, rows out) moved to
:mod:`sklaudio.tabular`; their old names here still work, with a FutureWarning.
"""

from sklaudio.features._codebook import MelCodebook
from sklaudio.features._corpus import extract_corpus
from sklaudio.features._embedding import SpeakerEmbedding
from sklaudio.features._f0 import F0Stats, estimate_f0
from sklaudio.features._formants import FormantFeatures, lpc_formants
from sklaudio.features._mel import MelFeatures
from sklaudio.features._quality import AudioQuality, abstain, assess_quality
from sklaudio.features._temporal import TemporalFeatures
from sklaudio.utils._moved import moved_names

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

# names that moved to sklaudio.tabular (issue 11)
__getattr__ = moved_names(
    __name__, {"LogFeatures": "sklaudio.tabular", "SelectFeatures": "sklaudio.tabular"}
)
