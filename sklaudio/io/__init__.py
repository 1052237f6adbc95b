"""Reading audio: files to float clips (:func:`load_audio`, :class:`AudioLoader`).

The corpus readers (``read_dataset``, ``read_common_voice``, ...) live in
:mod:`sklaudio.datasets`; their old names here still work, with a FutureWarning.
"""

import importlib
import warnings

from sklaudio.io._load import SUPPORTED_EXTENSIONS, AudioLoader, load_audio, load_audio_batch

__all__ = ["SUPPORTED_EXTENSIONS", "AudioLoader", "load_audio", "load_audio_batch"]

# names that moved to sklaudio.datasets (issue 11): old name -> new module
_MOVED = dict.fromkeys(
    ["AGE_BUCKETS", "Manifest", "read_common_voice", "read_common_voice_csv", "read_dataset",
     "read_folder", "read_librispeech", "read_manifest"],
    "sklaudio.datasets",
)


def __getattr__(name):
    if name in _MOVED:
        new = _MOVED[name]
        warnings.warn(
            f"sklaudio.io.{name} has moved to {new}.{name}; import it from there "
            f"(`from {new} import {name}`). The old path will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)
    raise AttributeError(f"module 'sklaudio.io' has no attribute {name!r}")
