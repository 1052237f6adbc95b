"""Pictures of a feature table: histograms, per-class histograms, correlations, and
the mean mel spectrogram of each class."""

import numpy as np

from sklaudio.display._common import _as_frame, _axes, _display_docs, _finish, _pyplot, _save

__all__ = [
    "plot_class_mean_mel",
    "plot_correlation",
    "plot_feature_by_class",
    "plot_feature_histograms",
]


@_display_docs("features", "path")
def plot_feature_histograms(X, X_transformed=None, *, columns=None, bins=30, path=None):
    """Histograms of feature columns, and of the same columns after a transform.

    Use it to see which features are skewed and what a log transform
    (:class:`sklaudio.tabular.LogFeatures`, ``np.log1p``) does to them.

    Parameters
    ----------
    {features}
    X_transformed : DataFrame or array-like of shape (n_rows, n_columns) or None, default=None
        The same rows after a transform: a second row of panels.
    columns : list of str or None, default=None
        Columns to draw (at most 12; None: the first 6).
    bins : int, default=30
        Histogram bins.
    {path}

    Returns
    -------
    fig : matplotlib Figure
        One panel per column (and per transform); each panel's bars count every row.

    See Also
    --------
    plot_feature_by_class : One histogram per class of one column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_feature_histograms
    >>> X = np.random.default_rng(0).lognormal(size=(200, 2))
    >>> fig = plot_feature_histograms(X, np.log1p(X))
    >>> len(fig.axes), int(sum(p.get_height() for p in fig.axes[0].patches))
    (4, 200)
    """
    df = _as_frame(X, "plot_feature_histograms")
    frames = [df]
    if X_transformed is not None:
        other = _as_frame(X_transformed, "plot_feature_histograms")
        if other.shape != df.shape:
            raise ValueError(f"plot_feature_histograms: X_transformed has shape {other.shape}, "
                             f"X {df.shape}; pass the same rows and columns.")
        other.columns = df.columns
        frames.append(other)
    columns = list(df.columns[:6]) if columns is None else list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing or not 1 <= len(columns) <= 12:
        raise ValueError(f"plot_feature_histograms: columns must be 1 to 12 names of X; "
                         f"unknown {missing}, {len(columns)} given.")
    plt = _pyplot()
    fig, axes = plt.subplots(len(frames), len(columns), squeeze=False,
                             figsize=(2.6 * len(columns), 2.4 * len(frames)))
    for row, (frame, label) in enumerate(zip(frames, ("as extracted", "transformed"))):
        for ax, col in zip(axes[row], columns):
            values = frame[col].to_numpy(dtype=float)
            ax.hist(values[np.isfinite(values)], bins=bins, color=f"C{row}")
            ax.set_title(str(col), fontsize=9)
            ax.tick_params(labelsize=7)
        axes[row][0].set_ylabel(f"rows ({label})")
    return _save(fig, path, tight=True)


@_display_docs("features", "ax", "title")
def plot_feature_by_class(X, y, column, *, bins=30, ax=None, title=None):
    """Overlaid histograms of one feature, one per class (e.g. f0 by gender).

    Parameters
    ----------
    {features}
    y : array-like of shape (n_rows,)
        Class of each row.
    column : str or int
        The column drawn: a name of the DataFrame, or a position.
    bins : int, default=30
        Histogram bins, shared by the classes.
    {ax}
    {title}

    Returns
    -------
    ax : matplotlib Axes
        One histogram per class, labelled with the class and its row count.

    See Also
    --------
    plot_feature_histograms : Every column, before and after a transform.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.display import plot_feature_by_class
    >>> X = pd.DataFrame({"f0_mean": [110, 120, 210, 220, 230]})
    >>> ax = plot_feature_by_class(X, ["male", "male", "female", "female", "female"], "f0_mean")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['female (3)', 'male (2)']
    """
    df = _as_frame(X, "plot_feature_by_class")
    y = np.asarray(y)
    if len(y) != len(df):
        raise ValueError(f"plot_feature_by_class: y has {len(y)} rows, X {len(df)}.")
    name = df.columns[column] if isinstance(column, (int, np.integer)) else column
    if name not in df.columns:
        raise ValueError(f"plot_feature_by_class: no column {column!r} in X.")
    values = df[name].to_numpy(dtype=float)
    finite = np.isfinite(values)
    edges = np.histogram_bin_edges(values[finite], bins=bins)
    ax = _axes(ax, figsize=(6, 3.5))
    for cls in np.unique(y):
        sel = (y == cls) & finite
        ax.hist(values[sel], bins=edges, alpha=0.55, label=f"{cls} ({int(sel.sum())})")
    ax.legend(title="class (rows)")
    return _finish(ax, xlabel=str(name), ylabel="rows", title=title)


@_display_docs("features", "ax", "title")
def plot_correlation(X, *, columns=None, ax=None, title=None):
    """Heat map of the Pearson correlations between feature columns.

    Parameters
    ----------
    {features}
    columns : list of str or None, default=None
        Columns shown (None: all; names are drawn up to 40 columns).
    {ax}
    {title}

    Returns
    -------
    ax : matplotlib Axes
        ``ax.images[0].get_array()`` is the correlation matrix, colour scale -1 to 1.

    See Also
    --------
    plot_feature_histograms : The distributions of the same columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_correlation
    >>> x = np.arange(10.0)
    >>> ax = plot_correlation(np.c_[x, -x, x ** 2])
    >>> float(np.round(ax.images[0].get_array()[0, 1], 6))
    -1.0
    """
    df = _as_frame(X, "plot_correlation")
    if columns is not None:
        df = df[list(columns)]
    corr = df.corr().to_numpy()
    ax = _axes(ax, figsize=(7, 6))
    img = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    if df.shape[1] <= 40:
        ticks = np.arange(df.shape[1])
        ax.set_xticks(ticks, [str(c) for c in df.columns], rotation=90, fontsize=7)
        ax.set_yticks(ticks, [str(c) for c in df.columns], fontsize=7)
    ax.figure.colorbar(img, ax=ax, label="Pearson correlation")
    return _finish(ax, title=title)


@_display_docs("sr", "path")
def plot_class_mean_mel(clips, y, *, sr, n_fft=2048, hop_length=512, n_mels=64, path=None):
    """The mean mel spectrogram (dB) of each class, and the difference of two classes.

    Each clip's mel power spectrogram is averaged over time, so clips of any length
    count once; the class means are averaged in power and drawn in dB against the
    mel band's centre frequency. With two classes a second panel shows their
    difference in dB (first class minus second).

    Parameters
    ----------
    clips : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
        The clips.
    y : array-like of shape (n_clips,)
        Class of each clip.
    {sr}
    n_fft : int, default=2048
        FFT size.
    hop_length : int, default=512
        Samples between frames.
    n_mels : int, default=64
        Mel bands.
    {path}

    Returns
    -------
    fig : matplotlib Figure
        ``fig.axes[0].lines`` holds one line per class (centre frequency in Hz,
        mean level in dB); with two classes ``fig.axes[1].lines[0]`` holds their
        difference.

    See Also
    --------
    plot_spectrogram : One clip's mel spectrogram over time.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.display import plot_class_mean_mel
    >>> t = np.arange(8000) / 8000
    >>> X = np.array([np.sin(2 * np.pi * f * t) for f in (200, 220, 1500, 1600)])
    >>> fig = plot_class_mean_mel(X, ["low", "low", "high", "high"], sr=8000, n_mels=32)
    >>> len(fig.axes), len(fig.axes[0].lines)
    (2, 2)
    """
    import librosa

    y = np.asarray(y)
    if len(y) != len(clips):
        raise ValueError(f"plot_class_mean_mel: y has {len(y)} labels for {len(clips)} clips.")
    mel = np.array([
        librosa.feature.melspectrogram(y=np.asarray(c, dtype=float), sr=sr, n_fft=n_fft,
                                       hop_length=hop_length, n_mels=n_mels).mean(axis=1)
        for c in clips
    ])
    freqs = librosa.mel_frequencies(n_mels=n_mels, fmax=sr / 2)
    classes = np.unique(y)
    means = {cls: 10 * np.log10(np.maximum(mel[y == cls].mean(axis=0), 1e-12)) for cls in classes}
    plt = _pyplot()
    n_panels = 2 if len(classes) == 2 else 1
    fig, axes = plt.subplots(n_panels, 1, figsize=(8, 3.2 * n_panels), squeeze=False)
    for cls in classes:
        axes[0][0].plot(freqs, means[cls], label=f"{cls} ({int(np.sum(y == cls))} clips)")
    _finish(axes[0][0], xlabel="mel band centre (Hz)", ylabel="mean power (dB)",
            title="mean mel spectrum per class")
    axes[0][0].legend()
    if n_panels == 2:
        a, b = classes
        axes[1][0].plot(freqs, means[a] - means[b], color="k")
        axes[1][0].axhline(0, color="grey", lw=0.8)
        _finish(axes[1][0], xlabel="mel band centre (Hz)", ylabel="difference (dB)",
                title=f"{a} minus {b}")
    return _save(fig, path, tight=True)
