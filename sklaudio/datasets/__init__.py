"""Corpora and their label schemes.

Readers turn a corpus on disk (Common Voice, LibriSpeech, a folder per class, a CSV
manifest) into a :class:`Manifest` of paths, labels and speakers; the label schemes
(one table per age scheme in :data:`AGE_SCHEMES`) turn years into ordered age groups;
:func:`make_voices` makes a synthetic corpus that exists on any machine.
"""

from sklaudio.datasets._readers import (
    AGE_BUCKETS,
    Manifest,
    read_common_voice,
    read_common_voice_csv,
    read_dataset,
    read_folder,
    read_librispeech,
    read_manifest,
)
from sklaudio.datasets._schemes import (
    AGE_SCHEMES,
    COMMON_VOICE_AGES,
    AgeScheme,
    age_to_bucket,
    bucket_ages,
    mean_absolute_bucket_error,
)
from sklaudio.datasets._voices import make_voices, synthesize_voice

__all__ = [
    "AGE_BUCKETS",
    "AGE_SCHEMES",
    "COMMON_VOICE_AGES",
    "AgeScheme",
    "Manifest",
    "age_to_bucket",
    "bucket_ages",
    "make_voices",
    "mean_absolute_bucket_error",
    "read_common_voice",
    "read_common_voice_csv",
    "read_dataset",
    "read_folder",
    "read_librispeech",
    "read_manifest",
    "synthesize_voice",
]
