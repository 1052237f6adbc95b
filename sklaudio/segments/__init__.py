"""Temporal segments: smoothing detector output, baselines, metrics, detection, plots and I/O."""

from sklaudio.segments._baselines import MedianFilterSmoother, MinDurationSmoother, ViterbiSmoother
from sklaudio.segments._detector import SegmentDetector
from sklaudio.segments._gmm import GMMSegmentSmoother
from sklaudio.segments._io import read_rttm, read_segments, write_segments
from sklaudio.segments._metrics import (
    event_f1,
    frame_error_rate,
    make_segment_scorer,
    segment_f1,
)
from sklaudio.segments._plot import plot_segments

__all__ = [
    "GMMSegmentSmoother",
    "MedianFilterSmoother",
    "MinDurationSmoother",
    "SegmentDetector",
    "ViterbiSmoother",
    "event_f1",
    "frame_error_rate",
    "make_segment_scorer",
    "plot_segments",
    "read_rttm",
    "read_segments",
    "segment_f1",
    "write_segments",
]
