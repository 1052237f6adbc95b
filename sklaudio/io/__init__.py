"""Reading audio: files to float clips, and data-set manifests to paths, labels and groups."""

from sklaudio.io._load import SUPPORTED_EXTENSIONS, AudioLoader, load_audio, load_audio_batch

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "AudioLoader",
    "load_audio",
    "load_audio_batch",
]
