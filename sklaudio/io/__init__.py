"""Reading audio: files to float clips (:func:`load_audio`, :class:`AudioLoader`).

The corpus readers (``read_dataset``, ``read_common_voice``, ...) live in
:mod:`sklaudio.datasets`; their old names here still work, with a FutureWarning.
"""


from sklaudio.io._load import SUPPORTED_EXTENSIONS, AudioLoader, load_audio, load_audio_batch
from sklaudio.utils._moved import moved_names

__all__ = ["SUPPORTED_EXTENSIONS", "AudioLoader", "load_audio", "load_audio_batch"]

# names that moved to sklaudio.datasets (issue 11): old name -> new module
_MOVED = dict.fromkeys(
    ["AGE_BUCKETS", "Manifest", "read_common_voice", "read_common_voice_csv", "read_dataset",
     "read_folder", "read_librispeech", "read_manifest"],
    "sklaudio.datasets",
)


__getattr__ = moved_names(__name__, _MOVED)
