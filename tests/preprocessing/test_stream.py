"""Denoiser and Trimmer on a StreamedClip equal the same steps on the whole clip."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklaudio.preprocessing import Denoiser, _denoise
from sklaudio.utils import ClipArray
from sklaudio.utils._stream import StreamedClip, is_streamed

SR = 16000


def _speech_like(seconds, seed=0):
    """Bursts of a modulated tone (on/off every ~1.6 s) over noise whose level drifts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR) + int(rng.integers(0, 500))
    t = np.arange(n) / SR
    on = (np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6)) > 0).astype(np.float32)
    voice = 0.3 * on * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 4 * t))
    noise = 0.02 * (1 + t / seconds) * rng.standard_normal(n)
    return (voice + noise).astype(np.float32)


def _read(clip, block):
    if isinstance(clip, np.ndarray):
        return clip
    blocks = list(clip.blocks(block))
    assert all(0 < len(b) <= block for b in blocks)
    return np.concatenate(blocks)


@pytest.mark.parametrize("kw", [{}, {"method": "stationary"},
                                {"method": "stationary", "n_std_thresh_stationary": 0.5,
                                 "y_noise": np.random.default_rng(1).normal(0, 0.02, SR)},
                                {"time_constant_s": 0.5, "n_fft": 512, "prop_decrease": 0.7}])
def test_denoiser_streamed_equals_whole(monkeypatch, kw):
    """Check windows of random sizes (from a few frames up) give the whole clip's output.

    The non-stationary noise level runs a forward-backward smoother: the windows'
    overlap makes its start-up error below 1e-10 of the level, so the outputs agree to
    float32 rounding.
    """
    rng = np.random.default_rng(0)
    stationary = kw.get("method") == "stationary"
    y = _speech_like(12 if stationary else 40)
    step = Denoiser(**kw).fit(ClipArray([y], sr=SR))
    whole = step.transform(ClipArray([y], sr=SR))[0]
    unit, context = _denoise._stream_geometry(
        SR, stationary=stationary, n_fft=kw.get("n_fft", 1024),
        hop_length=kw.get("n_fft", 1024) // 4, time_constant_s=kw.get("time_constant_s", 2.0),
        smooth_frames=3)
    assert context < len(y) // 2  # the windows really cut the clip
    # the smallest core is one block of the level tracker (a few frames) when the
    # overlap is short; with the long one of the non-stationary gate, a few seconds
    cores = ([unit, int(rng.integers(50, 400)) * unit] if stationary
             else [int(rng.integers(100, 300)) * unit])
    for core in cores + [3 * context]:
        monkeypatch.setattr(_denoise, "_CORE_SAMPLES", core)
        source = StreamedClip.from_array(y, SR, name="y.wav")
        out = step.transform(ClipArray([np.zeros(4000, np.float32), source], sr=SR))
        assert not is_streamed(out[0]) and is_streamed(out[1])
        assert (out[1].n_samples, out[1].dtype, out[1].name) == (len(y), y.dtype, "y.wav")
        got = _read(out[1], int(rng.integers(1, 50000)))
        assert_allclose(got, whole, rtol=0, atol=1e-6 * np.abs(whole).max())


def test_denoiser_streamed_output_file_is_removed():
    y = _speech_like(3)
    out = Denoiser().fit_transform(ClipArray([StreamedClip.from_array(y, SR)], sr=SR))
    path = out[0].source.path
    assert os.path.exists(path) and os.path.getsize(path) == 4 * len(y)
    del out
    assert not os.path.exists(path)


def test_denoiser_streamed_nan_names_the_clip_and_sample():
    y = _speech_like(3)
    y[30001] = np.nan
    with pytest.raises(ValueError, match=r"NaN: clip 'y.wav' at sample 30001 .* Denoiser"):
        Denoiser().fit_transform(ClipArray([StreamedClip.from_array(y, SR, name="y.wav")],
                                           sr=SR))
