"""Audio augmentation as imbalanced-learn samplers (fit time only), and as functions."""

from sklaudio.augment._augmenter import AudioAugmenter
from sklaudio.augment._functional import (
    add_noise,
    apply_gain,
    colored_noise,
    pitch_shift,
    time_shift,
    time_stretch,
    trim_silence,
)
from sklaudio.augment._operations import (
    AddNoise,
    BaseOperation,
    Gain,
    PitchShift,
    TimeShift,
    TimeStretch,
    TrimSilence,
)

__all__ = [
    "AddNoise",
    "AudioAugmenter",
    "BaseOperation",
    "Gain",
    "PitchShift",
    "TimeShift",
    "TimeStretch",
    "TrimSilence",
    "add_noise",
    "apply_gain",
    "colored_noise",
    "pitch_shift",
    "time_shift",
    "time_stretch",
    "trim_silence",
]
