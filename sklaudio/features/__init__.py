"""Clip-level feature extractors (clips in, one row per clip out) and a log transform."""

from sklaudio.features._mel import MelFeatures

__all__ = ["MelFeatures"]
