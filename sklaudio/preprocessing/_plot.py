"""Figures of what a preprocessing step did to a clip."""

import numpy as np

__all__ = ["plot_before_after"]


def _magnitude(y, n_fft, hop_length):
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))


def plot_before_after(y, y_new, *, sr, n_fft=1024, hop_length=256, titles=("before", "after"),
                      path=None):
    """Draw the dB spectrograms of a clip before and after a step, one above the other.

    For a Denoiser, the noise floor that disappears; for a Trimmer, the silence cut.
    Both panels share the colour scale (0 dB at the loudest bin of ``y``), so a
    quieter output looks quieter.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The clip before the step.
    y_new : ndarray of shape (n_samples_new,)
        The clip after it (any length).
    sr : int
        Sampling rate in Hz.
    n_fft : int, default=1024
        FFT size of the spectrograms.
    hop_length : int, default=256
        Samples between frames.
    titles : tuple of str, default=("before", "after")
        Panel titles.
    path : str or Path, default=None
        Save the figure there (format from the extension).

    Returns
    -------
    fig : matplotlib Figure
        Two axes, each with one image whose array is the dB spectrogram.

    See Also
    --------
    Denoiser : Spectral gating.
    Trimmer : Silence trimming and fixed durations.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Denoiser, plot_before_after
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(16000) / 16000
    >>> y = np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(16000)
    >>> y_new = Denoiser(sr=16000).fit_transform(y[np.newaxis])[0]
    >>> fig = plot_before_after(y, y_new, sr=16000)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['before', 'after']
    """
    import matplotlib.pyplot as plt

    y = np.asarray(y, dtype=np.float64)
    y_new = np.asarray(y_new, dtype=np.float64)
    if y.ndim != 1 or y_new.ndim != 1:
        raise ValueError(
            f"plot_before_after expects two 1-D clips; got shapes {y.shape} and "
            f"{y_new.shape}. Pass one clip, e.g. X[0]."
        )
    mags = [_magnitude(clip, n_fft, hop_length) for clip in (y, y_new)]
    ref = float(mags[0].max()) or 1.0  # 0 dB: the loudest bin of the input, for both panels
    fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, sharey=True)
    images = []
    for ax, clip, mag, title in zip(axes, (y, y_new), mags, titles):
        S = np.maximum(20 * np.log10(np.maximum(mag, 1e-12) / ref), -80.0)
        duration = len(clip) / sr
        images.append(ax.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=-80,
                                vmax=0, extent=(0, duration, 0, sr / 2)))
        ax.set_title(title)
        ax.set_ylabel("Hz")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(images[0], ax=axes, label="dB")
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
