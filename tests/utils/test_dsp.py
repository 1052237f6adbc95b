"""The signal-processing core against librosa: framing, STFT, iSTFT, mel, RMS, ZCR."""

import librosa
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklaudio.utils import _dsp

SR = 8000


def _signal(n, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    y = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(n)
    return y.astype(dtype)


STFT_CASES = [
    dict(n_fft=512, hop_length=128),
    dict(n_fft=512, hop_length=100, win_length=400),
    dict(n_fft=256, hop_length=64, window="hamming", center=False),
    dict(n_fft=255, hop_length=60, win_length=201),  # odd sizes
    dict(n_fft=512, hop_length=128, pad_mode="reflect"),
]


@pytest.mark.parametrize("kw", STFT_CASES)
@pytest.mark.parametrize("n", [4000, 4001, 4097])
def test_stft_equals_librosa(kw, n):
    """Check stft equals librosa.stft for a batch of clips, float64 to 1e-6 relative."""
    Y = np.stack([_signal(n, 0), _signal(n, 1)])
    D = _dsp.stft(Y, **kw)
    ref = librosa.stft(Y, **kw)
    assert D.shape == ref.shape
    assert_allclose(D, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_stft_float32_stays_float32_and_close():
    """Check float32 clips give complex64 within float32 rounding of librosa."""
    y = _signal(3000, dtype=np.float32)
    D = _dsp.stft(y, n_fft=256, hop_length=64)
    assert D.dtype == np.complex64
    ref = librosa.stft(y, n_fft=256, hop_length=64)
    assert_allclose(D, ref, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("power", [1.0, 2.0, 1.5])
def test_power_spectrogram_is_abs_stft_transposed(power):
    """Check power_spectrogram is |librosa.stft| ** power, frames first."""
    Y = np.stack([_signal(3000, 3), _signal(3000, 4)])
    S = _dsp.power_spectrogram(Y, n_fft=256, hop_length=64, win_length=200, power=power)
    ref = np.abs(librosa.stft(Y, n_fft=256, hop_length=64, win_length=200)) ** power
    assert_allclose(S, ref.swapaxes(-1, -2), rtol=1e-6, atol=1e-9 * ref.max())


@pytest.mark.parametrize("kw", STFT_CASES[:4])
def test_istft_equals_librosa(kw):
    """Check istft equals librosa.istft, with and without length."""
    y = _signal(4001, 5)
    D = librosa.stft(y, **kw)
    inv = {k: v for k, v in kw.items() if k != "pad_mode"}
    assert_allclose(_dsp.istft(D, **inv), librosa.istft(D, **inv), rtol=1e-6, atol=1e-9)
    for length in (3000, 4001, 4500):
        assert_allclose(_dsp.istft(D, length=length, **inv),
                        librosa.istft(D, length=length, **inv), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(n_fft=512, hop_length=128),
                                dict(n_fft=512, hop_length=100, win_length=400),
                                dict(n_fft=256, hop_length=256, window="hann", win_length=256,
                                     center=True)])
def test_istft_of_padded_stft_is_identity(kw):
    """Check stft(pad_end=True) then istft(length=n) gives back every sample."""
    Y = np.stack([_signal(4001, 6), _signal(4001, 7)])
    D = _dsp.stft(Y, pad_end=True, **kw)
    back = _dsp.istft(D, length=Y.shape[-1], **kw)
    if kw["hop_length"] == kw.get("win_length", kw["n_fft"]):
        # no overlap: only samples where the periodic Hann window is 0 are lost
        ok = _dsp.stft_window("hann", 256, 256)[(np.arange(4001) + 128) % 256] > 0
        assert (~ok).sum() == 16  # samples 128, 384, ..., 3968
        assert_allclose(back[:, ok], Y[:, ok], atol=1e-9)
    else:
        assert_allclose(back, Y, atol=1e-9)


def test_pad_end_adds_the_frame_that_reaches_the_last_sample():
    """Check pad_end gives ceil rather than floor frame counts, frames equal otherwise."""
    y = _signal(1000)
    plain = _dsp.frame(y, frame_length=256, hop_length=96, center=True)
    padded = _dsp.frame(y, frame_length=256, hop_length=96, center=True, pad_end=True)
    assert len(plain) == 1 + 1000 // 96 and len(padded) == 1 + -(-1000 // 96)
    assert_array_equal(padded[: len(plain)], plain)
    start = (len(padded) - 1) * 96  # of the last frame, in the centred signal
    assert_array_equal(padded[-1][128 + 1000 - start :], 0.0)  # beyond the clip
    assert_array_equal(padded[-1][: 128 + 1000 - start], y[start - 128 :])


def test_frame_equals_librosa_util_frame():
    """Check frame (center=False) is librosa.util.frame, frames first."""
    y = _signal(1000)
    F = _dsp.frame(y, frame_length=100, hop_length=30, center=False)
    assert_array_equal(F, librosa.util.frame(y, frame_length=100, hop_length=30).T)
    with pytest.raises(ValueError, match="50 samples is shorter than frame_length=100"):
        _dsp.frame(y[:50], frame_length=100, hop_length=30, center=False)


def test_pad_short_only_adds_trailing_frames():
    """Check pad_short pads a short clip to one frame and keeps librosa's first frames."""
    y = _signal(300)
    plain = _dsp.power_spectrogram(y, n_fft=512, hop_length=128)
    padded = _dsp.power_spectrogram(y, n_fft=512, hop_length=128, pad_short=True)
    assert len(plain) == 1 + 300 // 128 and len(padded) == 1 + 512 // 128
    assert_allclose(padded[: len(plain)], plain)
    assert len(_dsp.frame(y, frame_length=512, hop_length=128, center=False,
                          pad_short=True)) == 1
    assert _dsp.frame_count(300, frame_length=512, hop_length=128, pad_short=True) == 5


@pytest.mark.parametrize("kw", [dict(), dict(n_mels=40, fmin=80.0, fmax=3000.0),
                                dict(n_fft=512, hop_length=160, win_length=400, power=1.0)])
def test_melspectrogram_equals_librosa(kw):
    """Check mel_filterbank and melspectrogram equal librosa's."""
    Y = np.stack([_signal(6000, 8), _signal(6000, 9)])
    n_fft = kw.get("n_fft", 2048)
    basis = _dsp.mel_filterbank(sr=SR, n_fft=n_fft, n_mels=kw.get("n_mels", 128),
                                fmin=kw.get("fmin", 0.0), fmax=kw.get("fmax"))
    ref_basis = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=kw.get("n_mels", 128),
                                    fmin=kw.get("fmin", 0.0), fmax=kw.get("fmax"))
    assert_array_equal(basis, ref_basis)
    assert not basis.flags.writeable  # the cached copy cannot be changed by a caller
    M = _dsp.melspectrogram(Y, sr=SR, **kw)
    ref = librosa.feature.melspectrogram(y=Y, sr=SR, **kw)
    assert_allclose(M, ref, rtol=1e-6, atol=1e-9 * ref.max())


def test_power_to_db_is_per_clip_librosa():
    """Check power_to_db equals librosa.power_to_db clip by clip (top_db per clip)."""
    S = np.abs(_dsp.stft(np.stack([_signal(2000, 1), 1e-3 * _signal(2000, 2)]),
                         n_fft=256, hop_length=64)) ** 2
    L = _dsp.power_to_db(S, top_db=60.0)
    for clip, ref in zip(L, S):
        assert_allclose(clip, librosa.power_to_db(ref, top_db=60.0), rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(frame_length=400, hop_length=160),
                                dict(frame_length=300, hop_length=128, center=False),
                                dict(frame_length=255, hop_length=100, pad_mode="reflect")])
def test_rms_equals_librosa(kw):
    """Check rms equals librosa.feature.rms, including a quiet tail after a loud head."""
    y = _signal(9000, 10)
    y[4500:] *= 1e-5  # -100 dB: a running sum would lose this tail's precision
    Y = np.stack([y, _signal(9000, 11)])
    ref = librosa.feature.rms(y=Y, dtype=np.float64, **kw)[..., 0, :]
    assert_allclose(_dsp.rms(Y, **kw), ref, rtol=1e-9)


@pytest.mark.parametrize("kw", [dict(), dict(frame_length=400, hop_length=160),
                                dict(frame_length=301, hop_length=128, center=False)])
def test_zero_crossing_rate_equals_librosa(kw):
    """Check zero_crossing_rate equals librosa.feature.zero_crossing_rate exactly."""
    y = _signal(9000, 12)
    y[100:300] = 0.0  # exact zeros count as positive after the threshold
    ref = librosa.feature.zero_crossing_rate(y, **kw)[0]
    assert_allclose(_dsp.zero_crossing_rate(y, **kw), ref, rtol=1e-12)


@pytest.mark.parametrize("length,hop,n", [(2048, 512, 40), (7, 3, 11), (10, 10, 5)])
def test_frame_sums_equals_direct_sums(length, hop, n):
    """Check frame_sums equals summing each frame, for real and boolean input."""
    rng = np.random.default_rng(0)
    v = rng.standard_normal((2, length + (n - 1) * hop + 5))
    direct = np.lib.stride_tricks.sliding_window_view(v, length, axis=-1)[:, ::hop][:, :n]
    assert_allclose(_dsp.frame_sums(v, frame_length=length, hop_length=hop, n_frames=n),
                    direct.sum(-1), rtol=1e-12, atol=1e-12)
    b = v > 0
    assert_array_equal(_dsp.frame_sums(b, frame_length=length, hop_length=hop, n_frames=n),
                       direct.__gt__(0).sum(-1))


def test_bad_window_names_librosa_error():
    """Check an unknown window raises ValueError naming it."""
    with pytest.raises(ValueError, match="no-such-window"):
        _dsp.stft(_signal(1000), n_fft=256, window="no-such-window")



@pytest.mark.parametrize("fmin, fmax", [(0.0, 4000.0), (0.0, None), (100.0, 3999.0)])
def test_check_mel_band_accepts_a_band_inside_nyquist(fmin, fmax):
    _dsp.check_mel_band("Step", fmin, fmax, 8000)  # no error


@pytest.mark.parametrize("fmin, fmax", [(0.0, 4000.5), (300.0, 300.0), (500.0, 200.0),
                                        (4000.0, None)])
def test_check_mel_band_names_the_step_and_the_band(fmin, fmax):
    with pytest.raises(ValueError, match=r"^Step needs fmin < fmax <= sr / 2; got fmin="):
        _dsp.check_mel_band("Step", fmin, fmax, 8000)


@pytest.mark.parametrize("name", ["MelFeatures", "MelCodebook", "IVectorExtractor"])
def test_mel_steps_refuse_a_band_above_nyquist_in_fit(name):
    import sklaudio.features
    import sklaudio.speakers

    cls = getattr(sklaudio.features, name, None) or getattr(sklaudio.speakers, name)
    clips = np.random.default_rng(0).normal(scale=0.1, size=(2, 8000)).astype(np.float32)
    with pytest.raises(ValueError, match=f"^{name} needs fmin < fmax <= sr / 2"):
        cls(sr=8000, fmax=5000.0).fit(clips)
