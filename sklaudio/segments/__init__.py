"""Temporal segments: smoothing detector output, baselines, metrics, detection, plots and I/O."""

from sklaudio.segments._baselines import MedianFilterSmoother, MinDurationSmoother, ViterbiSmoother
from sklaudio.segments._gmm import GMMSegmentSmoother

__all__ = ["GMMSegmentSmoother", "MedianFilterSmoother", "MinDurationSmoother", "ViterbiSmoother"]
