"""``plot_before_after`` lives in :mod:`sklaudio.display`; this path keeps working."""

from sklaudio.display._audio import plot_before_after

__all__ = ["plot_before_after"]
