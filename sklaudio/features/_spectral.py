"""Former home of the extractors' spectral helpers, now in :mod:`sklaudio.utils._dsp`.

Kept so that modules not yet moved keep working unchanged: ``power_spectrogram`` and
``frames`` here zero-pad clips shorter than one frame (``pad_short=True``), as they
always did. New code imports from ``sklaudio.utils._dsp``.
"""

from sklaudio.utils import _dsp
from sklaudio.utils._dsp import AMIN, mel_power, pad_to
from sklaudio.utils._dsp import power_to_db as log_power

__all__ = ["AMIN", "frames", "log_power", "mel_power", "pad_to", "power_spectrogram"]


def frames(Y, *, n_fft, hop_length, center, pad_mode):
    """:func:`sklaudio.utils._dsp.frame` with ``pad_short=True``."""
    return _dsp.frame(Y, frame_length=n_fft, hop_length=hop_length, center=center,
                      pad_mode=pad_mode, pad_short=True)


def power_spectrogram(Y, *, n_fft, hop_length, win_length, window, center, pad_mode, power):
    """:func:`sklaudio.utils._dsp.power_spectrogram` with ``pad_short=True``."""
    return _dsp.power_spectrogram(Y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                                  window=window, center=center, pad_mode=pad_mode,
                                  power=power, pad_short=True)
