"""Reading audio: files to float clips, and data-set manifests to paths, labels and groups."""

from sklaudio.io._load import SUPPORTED_EXTENSIONS, AudioLoader, load_audio, load_audio_batch
from sklaudio.io._manifest import (
    AGE_BUCKETS,
    Manifest,
    read_common_voice,
    read_common_voice_csv,
    read_dataset,
    read_folder,
    read_librispeech,
    read_manifest,
)

__all__ = [
    "AGE_BUCKETS",
    "SUPPORTED_EXTENSIONS",
    "AudioLoader",
    "Manifest",
    "load_audio",
    "load_audio_batch",
    "read_common_voice",
    "read_common_voice_csv",
    "read_dataset",
    "read_folder",
    "read_librispeech",
    "read_manifest",
]
