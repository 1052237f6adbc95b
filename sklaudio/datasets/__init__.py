"""Synthetic data sets that exist on any machine (no downloads)."""

from sklaudio.datasets._voices import (
    COMMON_VOICE_AGES,
    age_to_bucket,
    make_voices,
    synthesize_voice,
)

__all__ = ["COMMON_VOICE_AGES", "age_to_bucket", "make_voices", "synthesize_voice"]
