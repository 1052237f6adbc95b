"""The spectral gate's STFT pair, now thin wrappers over :mod:`sklaudio.utils._dsp`.

The gate uses the core's centred frames with ``pad_end=True`` (the end zero-padded so
that every sample has full overlap) and inverts with the core's :func:`istft`, which
reconstructs the input to float precision for any hop not larger than the window.
New code calls ``sklaudio.utils._dsp.stft(..., pad_end=True)`` / ``istft(...,
length=n_samples)`` directly.
"""

from sklaudio.utils import _dsp

__all__ = ["hann", "istft", "stft", "stft_layout"]


def stft_layout(n_samples, *, win_length, hop_length):
    """Left padding, padded length and number of frames for a clip of ``n_samples``.

    In the coordinates of the centred signal, frame ``t``'s window starts at
    ``t * hop_length``; ``left`` samples of padding precede the clip.
    """
    left = win_length // 2
    n_frames = _dsp.frame_count(n_samples, frame_length=win_length, hop_length=hop_length,
                                center=True, pad_end=True)
    return left, win_length + (n_frames - 1) * hop_length, n_frames


def stft(y, *, n_fft, win_length, hop_length, window):
    """Complex STFT of the last axis: shape ``(..., 1 + n_fft // 2, n_frames)``."""
    return _dsp.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                     window=window, center=True, pad_end=True)


def istft(spec, *, n_samples, n_fft, win_length, hop_length, window):
    """Inverse of :func:`stft`: overlap-add back to ``(..., n_samples)``."""
    return _dsp.istft(spec, hop_length=hop_length, win_length=win_length, n_fft=n_fft,
                      window=window, center=True, length=n_samples)


def hann(win_length, dtype):
    """Periodic Hann window (scipy's and librosa's STFT default)."""
    return _dsp.stft_window("hann", win_length, win_length).astype(dtype)
