"""Figures for audio and for the models built on it (matplotlib, an optional extra).

Every function returns its matplotlib Axes (or Figure, for several panels) and opens
no window, so it works in notebooks, scripts and headless servers alike. The plots
of the other capabilities are here too: segment bars, confusion matrices, drift
histograms (``plot_drift``, also ``DriftReport.plot``), speaker-verification DET curves.
"""

import importlib

from sklaudio.display._audio import (
    plot_before_after,
    plot_spectrogram,
    plot_spectrum,
    plot_waveform,
)
from sklaudio.display._features import (
    plot_class_mean_mel,
    plot_correlation,
    plot_feature_by_class,
    plot_feature_histograms,
)
from sklaudio.display._model import plot_grid_scores

# figures that live beside the capability they draw, loaded on first use
_ELSEWHERE = {
    "plot_confusion_matrix": ("sklaudio.experiment", "plot_confusion_matrix"),
    "plot_drift": ("sklaudio.monitor._plot", "plot_report"),
    "plot_segments": ("sklaudio.segments", "plot_segments"),
    "plot_verification": ("sklaudio.speakers", "plot_verification"),
}

__all__ = [
    "plot_before_after",
    "plot_class_mean_mel",
    "plot_confusion_matrix",
    "plot_correlation",
    "plot_drift",
    "plot_feature_by_class",
    "plot_feature_histograms",
    "plot_grid_scores",
    "plot_segments",
    "plot_spectrogram",
    "plot_spectrum",
    "plot_verification",
    "plot_waveform",
]


def __getattr__(name):
    if name in _ELSEWHERE:
        module, attr = _ELSEWHERE[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'sklaudio.display' has no attribute {name!r}")
