"""sklaudio.display: every figure is checked against the numbers it claims to show."""

import librosa
import matplotlib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklaudio import display  # noqa: E402
from tests.conftest import harmonic  # noqa: E402

SR = 16000


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _clip(seconds=0.5, f0=150.0):
    rng = np.random.default_rng(0)
    return harmonic(f0, sr=SR, duration=seconds) + 0.01 * rng.standard_normal(int(SR * seconds))


def test_waveform_zoom_shows_exactly_the_samples_and_onsets():
    """Check that the zoomed line holds y[first:last] at its times, and one line per onset."""
    y = _clip()
    ax = display.plot_waveform(y, sr=SR, start=0.1, duration=0.0005, onsets=[0.1002])
    line = ax.lines[0]
    first = int(0.1 * SR)
    assert_allclose(line.get_ydata(), y[first:first + 8])
    assert_allclose(line.get_xdata(), np.arange(first, first + 8) / SR)
    assert len(ax.lines) == 2 and ax.lines[1].get_xdata()[0] == pytest.approx(0.1002)
    assert ax.get_xlabel() == "time (s)"


def test_spectrum_peaks_at_the_tone_with_0_db():
    """Check the FFT spectrum: 0 dB at the tone's frequency, log frequency axis."""
    y = np.sin(2 * np.pi * 1000 * np.arange(SR) / SR)
    ax = display.plot_spectrum(y, sr=SR)
    f, db = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert f[np.argmax(db)] == pytest.approx(1000.0) and db.max() == pytest.approx(0.0)
    assert ax.get_xscale() == "log"


@pytest.mark.parametrize("kind", ["stft", "mel", "mfcc"])
def test_spectrogram_image_equals_librosa(kind):
    """Check the image against librosa's own dB STFT, dB mel spectrogram, MFCC."""
    y = _clip()
    ax = display.plot_spectrogram(y, sr=SR, kind=kind, n_fft=512, hop_length=128, n_mels=40,
                                  n_mfcc=13)
    if kind == "stft":
        expected = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=512, hop_length=128)),
                                           ref=np.max, top_db=80.0)
    elif kind == "mel":
        S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=128, n_mels=40)
        expected = librosa.power_to_db(S, ref=np.max, top_db=80.0)
    else:
        expected = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=128,
                                        n_mels=40)
    assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(expected.shape), expected,
                    rtol=1e-6, atol=1e-6)
    cbar_label = ax.figure.axes[-1].get_ylabel()
    assert cbar_label == ("coefficient value" if kind == "mfcc" else "dB re. loudest bin")


def test_f0_track_is_drawn_at_frame_times():
    """Check the f0 line: the values given, at librosa's frame times."""
    y = _clip()
    f0 = np.where(np.arange(63) % 5, 150.0, np.nan)
    ax = display.plot_spectrogram(y, sr=SR, hop_length=128, n_fft=512, f0=f0)
    line = ax.lines[0]
    assert_array_equal(line.get_ydata(), f0)
    assert_allclose(line.get_xdata(), librosa.frames_to_time(np.arange(63), sr=SR,
                                                               hop_length=128))
    with pytest.raises(ValueError, match="f0 is drawn over kind='stft' or 'mel'"):
        display.plot_spectrogram(y, sr=SR, kind="mfcc", f0=f0)
    with pytest.raises(ValueError, match="pass its first item"):
        display.plot_spectrogram(y, sr=SR, f0=np.vstack([f0, f0]))


def test_feature_histograms_count_every_row_before_and_after():
    """Check that each panel's bars add up to the rows, and match np.histogram of the data."""
    X = pd.DataFrame(np.random.default_rng(0).lognormal(size=(150, 3)), columns=["a", "b", "c"])
    fig = display.plot_feature_histograms(X, np.log1p(X), bins=10)
    assert len(fig.axes) == 6
    for ax in fig.axes:
        assert sum(p.get_height() for p in ax.patches) == 150
    counts, _ = np.histogram(np.log1p(X["b"]), bins=10)
    assert_array_equal([p.get_height() for p in fig.axes[4].patches], counts)
    with pytest.raises(ValueError, match="unknown \\['z'\\]"):
        display.plot_feature_histograms(X, columns=["a", "z"])


def test_feature_by_class_counts_each_class():
    """Check one histogram per class with that class's rows (f0 by gender)."""
    X = pd.DataFrame({"f0_mean": [110.0, 118, 125, 205, 214, 222, 230]})
    y = np.array(["male"] * 3 + ["female"] * 4)
    ax = display.plot_feature_by_class(X, y, "f0_mean", bins=5)
    per_class = [sum(p.get_height() for p in c.patches) for c in ax.containers]
    assert sorted(per_class) == [3, 4]
    with pytest.raises(ValueError, match="no column 'f1'"):
        display.plot_feature_by_class(X, y, "f1")


def test_correlation_matrix_equals_numpy():
    """Check the heat map's array against np.corrcoef."""
    X = np.random.default_rng(1).standard_normal((50, 4))
    X[:, 1] += X[:, 0]
    ax = display.plot_correlation(X)
    assert_allclose(ax.images[0].get_array(), np.corrcoef(X.T), atol=1e-12)


def test_class_mean_mel_difference_equals_difference_of_class_means():
    """Check the per-class mean mel curves and their difference against a direct computation."""
    X = np.array([_clip(0.25, f0) for f0 in (110, 120, 210, 230, 220)])
    y = np.array(["m", "m", "f", "f", "f"])
    fig = display.plot_class_mean_mel(X, y, sr=SR, n_fft=512, hop_length=128, n_mels=32)
    mel = np.array([librosa.feature.melspectrogram(y=c, sr=SR, n_fft=512, hop_length=128,
                                                   n_mels=32).mean(axis=1) for c in X])
    f_db = 10 * np.log10(mel[y == "f"].mean(axis=0))
    m_db = 10 * np.log10(mel[y == "m"].mean(axis=0))
    assert_allclose(fig.axes[0].lines[0].get_ydata(), f_db, rtol=1e-6)
    assert_allclose(fig.axes[1].lines[0].get_ydata(), f_db - m_db, rtol=1e-6, atol=1e-9)
    assert fig.axes[1].get_title() == "f minus m"


def test_grid_scores_show_the_best_score_per_line_and_value():
    """Check each point equals the best mean score of its (line, C) cell of cv_results_."""
    results = {
        "param_scaler": np.array(["robust", "robust", "standard", "standard"] * 2, dtype=object),
        "param_pca": np.array([None] * 4 + ["pca"] * 4, dtype=object),
        "param_clf__C": np.array([0.1, 10.0] * 4, dtype=object),
        "mean_test_score": np.array([0.5, 0.6, 0.55, 0.7, 0.52, 0.65, 0.58, 0.66]),
        "std_test_score": np.full(8, 0.01),
    }
    ax = display.plot_grid_scores(results, "clf__C", by=["scaler"])
    lines = {t.get_text(): line for t, line in zip(ax.get_legend().get_texts(),
                                                   ax.get_legend().legend_handles)}
    assert set(lines) == {"scaler=robust", "scaler=standard"}
    ys = sorted(tuple(np.round(np.asarray(c.lines[0].get_ydata(), dtype=float), 12))
                for c in ax.containers)
    assert ys == [(0.52, 0.65), (0.58, 0.7)]
    with pytest.raises(ValueError, match="'clf__gamma' is not a grid parameter"):
        display.plot_grid_scores(results, "clf__gamma")


def test_one_clip_only():
    """Check the error for a batch passed where one clip is drawn."""
    with pytest.raises(ValueError, match="one clip of shape \\(n_samples,\\)"):
        display.plot_waveform(np.zeros((2, 100)), sr=SR)


def test_old_before_after_path_and_capability_plots_are_here():
    """Check plot_before_after's old path is the display function, and re-exported plots."""
    from sklaudio.preprocessing import plot_before_after

    assert plot_before_after is display.plot_before_after
    from sklaudio.monitor._plot import plot_report
    from sklaudio.segments import plot_segments
    from sklaudio.speakers import plot_verification

    assert display.plot_segments is plot_segments
    assert display.plot_verification is plot_verification
    assert display.plot_drift is plot_report
