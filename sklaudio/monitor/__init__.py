"""Drift monitoring: does production data still look like the data a model was trained on?"""

from sklaudio.monitor._drift import DriftMonitor, DriftReport

__all__ = ["DriftMonitor", "DriftReport"]
