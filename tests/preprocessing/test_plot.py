"""Tests of the before/after spectrogram figure."""

import librosa
import numpy as np
import pytest

from sklaudio.preprocessing import Denoiser, Trimmer, plot_before_after


def test_panels_show_db_spectrograms_on_the_input_scale(rng, tmp_path):
    """Check the images against librosa's STFT in dB relative to the input's loudest bin:
    the denoised panel of tone + noise is darker where the noise was."""
    sr = 16000
    t = np.arange(sr) / sr
    y = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.05 * rng.standard_normal(sr)
    y_new = Denoiser(sr=sr).fit_transform(y[np.newaxis])[0]
    fig = plot_before_after(y, y_new, sr=sr, n_fft=512, hop_length=128,
                            path=tmp_path / "fig.png")
    before, after = (np.asarray(ax.get_images()[0].get_array()) for ax in fig.axes[:2])
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=128))
    expected = np.maximum(20 * np.log10(S / S.max()), -80)
    np.testing.assert_allclose(before, expected, atol=1e-6)
    assert before.max() == pytest.approx(0.0)
    noise_rows = slice(200, 256)  # 6.25-8 kHz: only noise there
    assert np.median(after[noise_rows]) < np.median(before[noise_rows]) - 6
    assert fig.axes[0].get_images()[0].get_extent()[1] == pytest.approx(1.0)
    assert (tmp_path / "fig.png").stat().st_size > 5000


def test_trimmed_panel_is_shorter():
    sr = 8000
    y = np.r_[np.zeros(sr), np.sin(2 * np.pi * 300 * np.arange(sr) / sr), np.zeros(sr)]
    y_new = Trimmer(sr=sr).fit_transform([y])[0]
    fig = plot_before_after(y, y_new, sr=sr)
    extents = [ax.get_images()[0].get_extent()[1] for ax in fig.axes[:2]]
    assert extents[1] < 0.5 * extents[0]
    with pytest.raises(ValueError, match=r"two 1-D clips; got shapes \(1, 5\)"):
        plot_before_after(np.zeros((1, 5)), np.zeros(5), sr=sr)
