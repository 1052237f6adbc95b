"""Audio-level preprocessing, audio in -> audio out: noise reduction and trimming.

``YeoJohnsonTransformer`` moved to :mod:`sklaudio.tabular`; its old name here still
works, with a FutureWarning.
"""

import importlib
import warnings

from sklaudio.preprocessing._denoise import Denoiser
from sklaudio.preprocessing._plot import plot_before_after
from sklaudio.preprocessing._trim import Trimmer, frame_db

__all__ = ["Denoiser", "Trimmer", "frame_db", "plot_before_after"]

# names that moved to sklaudio.tabular (issue 11): old name -> new module
_MOVED = {"YeoJohnsonTransformer": "sklaudio.tabular"}


def __getattr__(name):
    if name in _MOVED:
        new = _MOVED[name]
        warnings.warn(
            f"sklaudio.preprocessing.{name} has moved to {new}.{name}; import it from there "
            f"(`from {new} import {name}`). The old path will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)
    raise AttributeError(f"module 'sklaudio.preprocessing' has no attribute {name!r}")
