"""Spectral helpers shared by the feature extractors: one STFT, mel power, per-clip dB.

All functions take a batch ``Y`` of shape ``(n_clips, n_samples)`` (time last, as in
librosa) and keep the batch axis, so a matrix of clips goes through librosa once.
"""

from functools import lru_cache

import librosa
import numpy as np

__all__ = ["log_power", "mel_power", "pad_to", "power_spectrogram"]

AMIN = 1e-10  # librosa.power_to_db's floor: an all-zero clip gives -100 dB, not -inf


def pad_to(Y, n):
    """Zero-pad the clips of ``Y`` at the end to at least ``n`` samples."""
    if Y.shape[-1] >= n:
        return Y
    return np.pad(Y, [(0, 0)] * (Y.ndim - 1) + [(0, n - Y.shape[-1])])


def power_spectrogram(Y, *, n_fft, hop_length, win_length, window, center, pad_mode, power):
    """``|stft(Y)| ** power`` of shape (n_clips, 1 + n_fft // 2, n_frames), as librosa's.

    Clips shorter than ``n_fft`` are zero-padded to ``n_fft`` first, so every clip has
    at least one full frame.
    """
    Y = pad_to(Y, n_fft)
    try:
        D = librosa.stft(
            Y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode,
        )
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the STFT settings: {exc}") from exc
    if power == 2.0:
        return D.real**2 + D.imag**2  # |D|**2 without the square root
    if power == 1.0:
        return np.abs(D)
    return np.abs(D) ** power


@lru_cache(maxsize=32)
def _mel_basis(sr, n_fft, n_mels, fmin, fmax):
    # cached per process: building the filterbank costs as much as a short clip's STFT
    try:
        return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the mel filterbank settings: {exc}") from exc


def mel_power(S, *, sr, n_fft, n_mels, fmin, fmax):
    """Apply librosa's (Slaney) mel filterbank: (n, n_freq, t) -> (n, n_mels, t)."""
    basis = _mel_basis(sr, n_fft, n_mels, float(fmin), None if fmax is None else float(fmax))
    return np.matmul(basis, S)


def log_power(S, *, top_db=80.0):
    """``librosa.power_to_db(S, ref=1.0)`` applied to each clip of the batch separately.

    librosa's ``top_db`` clips relative to the maximum of the whole array it gets;
    here the maximum is taken per clip (over the last two axes), so a clip's features
    never depend on the other clips of the batch.
    """
    L = 10.0 * np.log10(np.maximum(AMIN, S))
    if top_db is not None:
        L = np.maximum(L, L.max(axis=(-2, -1), keepdims=True) - top_db)
    return L
