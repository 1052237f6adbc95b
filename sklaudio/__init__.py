"""sklaudio: scikit-learn compatible machine learning on audio.

Public estimators are importable from the top level (``sklaudio.Denoiser``) and from
their subpackage (``sklaudio.preprocessing.Denoiser``). Subpackages load lazily, so
``import sklaudio`` stays cheap and optional extras (matplotlib) are imported
only by the functions that need them.
"""

import importlib

from sklaudio import _numba_cache

__version__ = "0.1.0.dev0"

# librosa's numba functions are filled into a shared disk cache by one process at a time
_numba_cache.install()

# public name -> subpackage that defines it
_LAZY = {
    "ClipArray": "sklaudio.utils",
    "load_audio": "sklaudio.io",
    "AudioLoader": "sklaudio.io",
    "Denoiser": "sklaudio.preprocessing",
    "Trimmer": "sklaudio.preprocessing",
    "MelFeatures": "sklaudio.features",
    "F0Stats": "sklaudio.features",
    "TemporalFeatures": "sklaudio.features",
    "AudioQuality": "sklaudio.features",
    "assess_quality": "sklaudio.features",
    "LogFeatures": "sklaudio.tabular",
    "SpeakerEmbedding": "sklaudio.features",
    "GMMSegmentSmoother": "sklaudio.segments",
    "SegmentDetector": "sklaudio.segments",
    "SpeakerVerifier": "sklaudio.speakers",
    "AudioAugmenter": "sklaudio.augment",
    "YeoJohnsonTransformer": "sklaudio.tabular",
    "SelectFeatures": "sklaudio.tabular",
    "read_dataset": "sklaudio.datasets",
    "make_voices": "sklaudio.datasets",
    "make_age_gender_pipeline": "sklaudio.experiment",
    "age_gender_param_grid": "sklaudio.experiment",
    "save_model": "sklaudio.deploy",
    "load_model": "sklaudio.deploy",
}
_SUBPACKAGES = [
    "augment",
    "datasets",
    "deploy",
    "display",
    "experiment",
    "features",
    "io",
    "model_selection",
    "monitor",
    "pipeline",
    "preprocessing",
    "segments",
    "tabular",
    "speakers",
    "utils",
]

__all__ = sorted(_LAZY) + _SUBPACKAGES


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"sklaudio.{name}")
    raise AttributeError(f"module 'sklaudio' has no attribute {name!r}")


def __dir__():
    return __all__
