"""Denoiser and Trimmer on a StreamedClip equal the same steps on the whole clip."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline

from sklaudio.exceptions import AudioWarning
from sklaudio.preprocessing import Denoiser, Trimmer, _denoise
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


class _RandomBlocks:
    """A source handing out blocks of random sizes (1 sample up to the size asked), so
    block boundaries fall anywhere, inside the first and the last frame included."""

    def __init__(self, y, seed):
        self.y, self.seed = y, seed

    def __call__(self, block_size):
        rng = np.random.default_rng(self.seed)
        start = 0
        while start < len(self.y):
            size = int(rng.choice([1, 7, rng.integers(1, block_size + 1), block_size]))
            yield self.y[start : start + min(size, block_size)]
            start += min(size, block_size)


def _streamed(y, seed=0, name=None):
    return StreamedClip(_RandomBlocks(y, seed), sr=SR, n_samples=len(y), name=name)


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
    n_fft = kw.get("n_fft", 1024)
    _, smooth_frames = _denoise._half_widths(SR, n_fft=n_fft, hop_length=n_fft // 4,
                                             freq_mask_smooth_hz=500, time_mask_smooth_ms=50)
    unit, context = _denoise._stream_geometry(
        SR, stationary=stationary, n_fft=n_fft, hop_length=n_fft // 4,
        time_constant_s=kw.get("time_constant_s", 2.0), smooth_frames=smooth_frames)
    assert context < len(y) // 2  # the windows really cut the clip
    # the smallest core is one block of the level tracker (a few frames) when the
    # overlap is short; with the long one of the non-stationary gate, a few seconds
    cores = ([unit, int(rng.integers(50, 400)) * unit] if stationary
             else [int(rng.integers(100, 300)) * unit])
    for core in cores + [3 * context]:
        monkeypatch.setattr(_denoise, "_CORE_SAMPLES", core)
        source = _streamed(y, seed=core, name="y.wav")
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


def _with_silences(seconds, seed):
    """Speech-like bursts separated by digital silence and quiet noise, random lengths."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(rng.integers(0, 3 * SR)), np.float32)]
    while sum(map(len, parts)) < seconds * SR:
        parts.append(_speech_like(rng.uniform(0.2, 2.0), seed=int(rng.integers(1 << 30))))
        gap = int(rng.integers(1, 2 * SR))
        parts.append((rng.uniform(0, 0.002) * rng.standard_normal(gap)).astype(np.float32))
    return np.concatenate(parts)


@pytest.mark.parametrize("kw", [{}, {"top_db": 30, "frame_length": 1000, "hop_length": 333},
                                {"top_db": 40, "min_silence": 0.3, "keep_silence": 0.05},
                                {"head": 0.5, "tail": 1.25, "top_db": None},
                                {"head": 0.3, "min_silence": 0.5, "ref": 0.5},
                                {"duration": 4.0, "crop": "center"},
                                {"duration": 3.0, "crop": "random", "random_state": 0},
                                {"duration": 60.0, "pad_mode": "reflect"}])
def test_trimmer_streamed_equals_whole(kw):
    """Check a streamed clip trims to exactly the whole clip's samples, for random reads."""
    rng = np.random.default_rng(1)
    clips = [_with_silences(12, seed) for seed in range(3)]
    step = Trimmer(**kw).fit(ClipArray(clips, sr=SR))
    whole = step.transform(ClipArray(clips, sr=SR))
    streamed = [_streamed(y, seed=i, name=f"{i}.wav") for i, y in enumerate(clips)]
    out = step.transform(ClipArray([clips[0], streamed[1], streamed[2]], sr=SR))
    for got, ref in zip(out, whole):
        # a fixed duration is a short array; otherwise a lazy clip of the parts kept
        assert is_streamed(got) == ("duration" not in kw and got is not out[0])
        assert_array_equal(_read(got, int(rng.integers(1, 3 * SR))), ref)


def test_trimmer_streamed_silent_clip_warns():
    silent = StreamedClip.from_array(np.zeros(5 * SR, np.float32), SR)
    with pytest.warns(AudioWarning, match=r"left nothing of clip\(s\) \[0\]"):
        out = Trimmer(sr=SR, ref=1.0).fit_transform(ClipArray([silent], sr=SR))
    assert_array_equal(out[0], np.zeros(2048, np.float32))


def test_denoiser_then_trimmer_streamed_pipeline():
    """Check the two steps chained on a streamed clip equal them on the whole clip."""
    y = _with_silences(20, 7)
    pipe = make_pipeline(Denoiser(), Trimmer(top_db=40)).fit(ClipArray([y], sr=SR))
    whole = pipe.transform(ClipArray([y], sr=SR))[0]
    got = pipe.transform(ClipArray([_streamed(y)], sr=SR))[0]
    assert is_streamed(got) and got.n_samples == len(whole)
    assert_allclose(_read(got, 12345), whole, rtol=0, atol=1e-6)
