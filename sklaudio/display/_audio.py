"""Pictures of one clip: waveform, spectrum, spectrograms, before/after a step."""

import numpy as np

from sklaudio.display._common import _axes, _check_clip, _display_docs, _finish, _save

__all__ = ["plot_before_after", "plot_spectrogram", "plot_spectrum", "plot_waveform"]

_KINDS = ("stft", "mel", "mfcc")
_FLOOR_DB = -80.0  # the dB range shown: quieter bins are drawn at the floor


@_display_docs("clip", "sr", "ax", "title")
def plot_waveform(y, *, sr, start=0.0, duration=None, onsets=None, ax=None, title=None):
    """Draw a clip's waveform against time, optionally zoomed and with onsets marked.

    Parameters
    ----------
    {clip}
    {sr}
    start : float, default=0.0
        First second shown.
    duration : float or None, default=None
        Seconds shown from ``start`` (None: to the end). A zoom of 0.0005 s shows
        single samples, as points.
    onsets : array-like of float or None, default=None
        Times in seconds drawn as vertical lines (for example onsets detected in
        the clip).
    {ax}
    {title}

    Returns
    -------
    ax : matplotlib Axes
        ``ax.lines[0]`` holds the samples drawn (time in s, amplitude).

    See Also
    --------
    plot_spectrogram : The same clip over time and frequency.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_waveform
    >>> y = np.sin(2 * np.pi * 5 * np.arange(100) / 100)
    >>> ax = plot_waveform(y, sr=100, start=0.5, duration=0.1)
    >>> ax.lines[0].get_xdata()[[0, -1]]
    array([0.5 , 0.59])
    """
    y = _check_clip(y, "plot_waveform")
    if start < 0 or start >= len(y) / sr:
        raise ValueError(f"plot_waveform: start={start} s lies outside the clip "
                         f"(0 to {len(y) / sr:.3f} s).")
    if duration is not None and duration <= 0:
        raise ValueError(f"plot_waveform: duration must be > 0 seconds; got {duration}.")
    first = int(round(start * sr))
    last = len(y) if duration is None else min(len(y), first + max(1, int(round(duration * sr))))
    t = np.arange(first, last) / sr
    ax = _axes(ax, figsize=(9, 3))
    few = last - first <= 200
    ax.plot(t, y[first:last], lw=0.8, marker="o" if few else None, ms=3)
    for when in np.atleast_1d(onsets if onsets is not None else []):
        ax.axvline(float(when), color="tab:red", lw=1, alpha=0.8)
    ax.set_xlim(t[0], t[-1] if len(t) > 1 else t[0] + 1 / sr)
    ax.ticklabel_format(axis="x", useOffset=False)  # a zoom shows plain seconds
    return _finish(ax, xlabel="time (s)", ylabel="amplitude", title=title)


@_display_docs("clip", "sr", "ax", "title")
def plot_spectrum(y, *, sr, ax=None, title=None):
    """Draw the magnitude spectrum of a whole clip (FFT) on a log frequency axis.

    Parameters
    ----------
    {clip}
    {sr}
    {ax}
    {title}

    Returns
    -------
    ax : matplotlib Axes
        ``ax.lines[0]`` holds frequency (Hz, from the first bin above 0 Hz) and
        level in dB relative to the loudest bin.

    See Also
    --------
    plot_spectrogram : How the spectrum changes over time.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_spectrum
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
    >>> line = plot_spectrum(y, sr=8000).lines[0]
    >>> float(line.get_xdata()[np.argmax(line.get_ydata())])
    440.0
    """
    y = _check_clip(y, "plot_spectrum")
    mag = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / sr)
    db = 20 * np.log10(np.maximum(mag, 1e-12) / max(float(mag.max()), 1e-12))
    ax = _axes(ax, figsize=(8, 3.5))
    ax.plot(freqs[1:], np.maximum(db[1:], _FLOOR_DB - 40), lw=0.8)
    ax.set_xscale("log")
    return _finish(ax, xlabel="frequency (Hz, log scale)", ylabel="level (dB re. peak)",
                   title=title)


def _spectrogram_db(y, sr, kind, n_fft, hop_length, n_mels, n_mfcc):
    import librosa

    if kind == "mfcc":
        return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft,
                                    hop_length=hop_length, n_mels=n_mels)
    if kind == "mel":
        S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                           n_mels=n_mels)
        return librosa.power_to_db(S, ref=np.max, top_db=-_FLOOR_DB)
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))
    return librosa.amplitude_to_db(S, ref=np.max, top_db=-_FLOOR_DB)


@_display_docs("clip", "sr", "ax", "title")
def plot_spectrogram(y, *, sr, kind="stft", n_fft=2048, hop_length=512, n_mels=128,
                     n_mfcc=20, f0=None, ax=None, title=None, colorbar=True):
    """Draw a spectrogram of one clip: STFT or mel in dB, or MFCCs, with a colour bar.

    Parameters
    ----------
    {clip}
    {sr}
    kind : {"stft", "mel", "mfcc"}, default="stft"
        ``"stft"``: ``librosa.amplitude_to_db`` of the STFT magnitude on a log
        frequency axis; ``"mel"``: the mel power spectrogram in dB; ``"mfcc"``:
        the MFCC coefficients. Levels are relative to the loudest bin, floored at
        -80 dB.
    n_fft : int, default=2048
        FFT size in samples.
    hop_length : int, default=512
        Samples between frames.
    n_mels : int, default=128
        Mel bands (``"mel"`` and ``"mfcc"``).
    n_mfcc : int, default=20
        Coefficients (``"mfcc"``).
    f0 : array-like of shape (n_frames,) or None, default=None
        A pitch track in Hz, one value per frame of ``hop_length`` samples (NaN
        where unvoiced, as :func:`sklaudio.features.estimate_f0` returns it),
        drawn over a ``"stft"`` or ``"mel"`` spectrogram.
    {ax}
    {title}
    colorbar : bool, default=True
        Add a colour bar with the unit.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.collections[0].get_array()`` is the image drawn, of shape
        ``(n_bins, n_frames)``.

    See Also
    --------
    plot_before_after : Two spectrograms on one colour scale.
    sklaudio.features.MelFeatures : Statistics of the same mel spectrogram.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_spectrogram
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> ax = plot_spectrogram(y, sr=16000, kind="mel", n_mels=40)
    >>> ax.collections[0].get_array().shape
    (40, 32)
    """
    import librosa.display

    if kind not in _KINDS:
        raise ValueError(f"plot_spectrogram: kind must be one of {list(_KINDS)}; got {kind!r}.")
    y = _check_clip(y, "plot_spectrogram")
    data = _spectrogram_db(y, sr, kind, n_fft, hop_length, n_mels, n_mfcc)
    ax = _axes(ax, figsize=(9, 4))
    y_axis = {"stft": "log", "mel": "mel", "mfcc": None}[kind]
    img = librosa.display.specshow(data, sr=sr, hop_length=hop_length, n_fft=n_fft,
                                   x_axis="time", y_axis=y_axis, ax=ax, cmap="magma")
    if f0 is not None:
        if kind == "mfcc":
            raise ValueError("plot_spectrogram: f0 is drawn over kind='stft' or 'mel', "
                             "whose vertical axis is frequency.")
        f0 = np.asarray(f0, dtype=float)
        if f0.ndim != 1:
            raise ValueError(
                f"plot_spectrogram: f0 must be one value per frame, shape (n_frames,); got "
                f"shape {f0.shape}. estimate_f0 returns (f0, voiced_flag, voiced_prob): pass "
                "its first item."
            )
        times = librosa.frames_to_time(np.arange(len(f0)), sr=sr, hop_length=hop_length)
        ax.plot(times, f0, color="cyan", lw=2, label="f0")
        ax.legend(loc="upper right")
    if colorbar:
        unit = "coefficient value" if kind == "mfcc" else "dB re. loudest bin"
        ax.figure.colorbar(img, ax=ax, label=unit)
    ylabel = "MFCC coefficient" if kind == "mfcc" else "frequency (Hz)"
    return _finish(ax, xlabel="time (s)", ylabel=ylabel, title=title)


@_display_docs("sr", "path")
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
    {sr}
    n_fft : int, default=1024
        FFT size of the spectrograms.
    hop_length : int, default=256
        Samples between frames.
    titles : tuple of str, default=("before", "after")
        Panel titles.
    {path}

    Returns
    -------
    fig : matplotlib Figure
        Two axes, each with one image whose array is the dB spectrogram.

    See Also
    --------
    sklaudio.preprocessing.Denoiser : Spectral gating.
    sklaudio.preprocessing.Trimmer : Silence trimming and fixed durations.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Denoiser
    >>> from sklaudio.display import plot_before_after
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(16000) / 16000
    >>> y = np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(16000)
    >>> y_new = Denoiser(sr=16000).fit_transform(y[np.newaxis])[0]
    >>> fig = plot_before_after(y, y_new, sr=16000)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['before', 'after']
    """
    import librosa
    import matplotlib.pyplot as plt

    y = np.asarray(y, dtype=np.float64)
    y_new = np.asarray(y_new, dtype=np.float64)
    if y.ndim != 1 or y_new.ndim != 1:
        raise ValueError(
            f"plot_before_after expects two 1-D clips; got shapes {y.shape} and "
            f"{y_new.shape}. Pass one clip, e.g. X[0]."
        )
    mags = [np.abs(librosa.stft(c, n_fft=n_fft, hop_length=hop_length)) for c in (y, y_new)]
    ref = float(mags[0].max()) or 1.0  # 0 dB: the loudest bin of the input, for both panels
    fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, sharey=True)
    images = []
    for ax, clip, mag, title in zip(axes, (y, y_new), mags, titles):
        S = np.maximum(20 * np.log10(np.maximum(mag, 1e-12) / ref), _FLOOR_DB)
        duration = len(clip) / sr
        images.append(ax.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=_FLOOR_DB,
                                vmax=0, extent=(0, duration, 0, sr / 2)))
        ax.set_title(title)
        ax.set_ylabel("frequency (Hz)")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(images[0], ax=axes, label="dB re. loudest bin before")
    return _save(fig, path)
