"""Clip-level feature extractors (clips in, one row per clip out), a log transform and a
column selector."""

from sklaudio.features._codebook import MelCodebook
from sklaudio.features._embedding import SpeakerEmbedding
from sklaudio.features._f0 import F0Stats, estimate_f0
from sklaudio.features._formants import FormantFeatures, lpc_formants
from sklaudio.features._log import LogFeatures
from sklaudio.features._mel import MelFeatures
from sklaudio.features._select import SelectFeatures
from sklaudio.features._temporal import TemporalFeatures

__all__ = [
    "F0Stats",
    "FormantFeatures",
    "LogFeatures",
    "MelCodebook",
    "MelFeatures",
    "SelectFeatures",
    "SpeakerEmbedding",
    "TemporalFeatures",
    "estimate_f0",
    "lpc_formants",
]
