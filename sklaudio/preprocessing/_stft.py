"""A small batched STFT / inverse STFT pair for the spectral gate.

Both work on the last axis of an array of any leading shape, so a matrix of clips
``(n_clips, n_samples)`` is transformed in one call. Frames are centred (``win_length
// 2`` zeros on each side, like ``scipy.signal.stft(boundary="zeros")`` and librosa's
``center=True``) and the end is zero-padded so that every sample is covered; the
inverse is a weighted overlap-add normalised by the summed squared window, which
reconstructs the input to float precision for any hop not larger than the window.
"""

import numpy as np
from scipy import fft as sp_fft
from scipy.signal import get_window


def stft_layout(n_samples, *, win_length, hop_length):
    """Left padding, padded length and number of frames for a clip of ``n_samples``."""
    left = win_length // 2
    padded = n_samples + 2 * left
    n_frames = 1 + -(-max(0, padded - win_length) // hop_length)  # ceil division
    total = win_length + (n_frames - 1) * hop_length
    return left, total, n_frames


def stft(y, *, n_fft, win_length, hop_length, window):
    """Complex STFT of the last axis: shape ``(..., 1 + n_fft // 2, n_frames)``."""
    n = y.shape[-1]
    left, total, _ = stft_layout(n, win_length=win_length, hop_length=hop_length)
    pad = [(0, 0)] * (y.ndim - 1) + [(left, total - n - left)]
    yp = np.pad(y, pad)
    frames = np.lib.stride_tricks.sliding_window_view(yp, win_length, axis=-1)
    frames = frames[..., ::hop_length, :] * window  # (..., n_frames, win_length)
    spec = sp_fft.rfft(frames, n=n_fft, axis=-1)
    return np.swapaxes(spec, -1, -2)


def istft(spec, *, n_samples, n_fft, win_length, hop_length, window):
    """Inverse of :func:`stft`: overlap-add back to ``(..., n_samples)``."""
    left, total, n_frames = stft_layout(n_samples, win_length=win_length, hop_length=hop_length)
    frames = sp_fft.irfft(np.swapaxes(spec, -1, -2), n=n_fft, axis=-1)[..., :win_length]
    frames = frames.astype(window.dtype, copy=False) * window
    # Split each frame into hop-sized blocks: block r of frame t lands at block t + r,
    # so the overlap-add is a handful of vectorised slice additions.
    n_blocks = -(-win_length // hop_length)
    width = n_blocks * hop_length
    frames = np.pad(frames, [(0, 0)] * (frames.ndim - 1) + [(0, width - win_length)])
    frames = frames.reshape(*frames.shape[:-1], n_blocks, hop_length)
    out = np.zeros((*frames.shape[:-3], n_frames + n_blocks - 1, hop_length), dtype=frames.dtype)
    for r in range(n_blocks):
        out[..., r : r + n_frames, :] += frames[..., :, r, :]
    out = out.reshape(*out.shape[:-2], -1)
    norm = _window_sumsquare(window, n_frames=n_frames, hop_length=hop_length, length=out.shape[-1])
    out = out[..., left : left + n_samples]
    norm = norm[left : left + n_samples]
    return out / norm


def _window_sumsquare(window, *, n_frames, hop_length, length):
    w2 = window.astype(np.float64) ** 2
    norm = np.zeros(length)
    win_length = len(window)
    n_blocks = -(-win_length // hop_length)
    w2 = np.pad(w2, (0, n_blocks * hop_length - win_length)).reshape(n_blocks, hop_length)
    blocks = norm.reshape(-1, hop_length)
    for r in range(n_blocks):
        blocks[r : r + n_frames] += w2[r]
    # samples no frame reaches with weight (only possible in the padding) stay as they are
    norm[norm < 1e-10] = 1.0
    return norm.astype(window.dtype)


def hann(win_length, dtype):
    """Periodic Hann window (scipy's and librosa's STFT default)."""
    return get_window("hann", win_length, fftbins=True).astype(dtype)
