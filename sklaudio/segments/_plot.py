"""plot_segments: stacked horizontal bars, one row per segment list (as the original
plot_bars)."""

import numpy as np

from sklaudio.segments._table import to_arrays

__all__ = ["plot_segments"]

_DEFAULT_COLORS = {"foreground": "#DADDFC", "background": "#FC997C", "null": "#808080"}


def plot_segments(segment_lists, *, titles=None, colors=None, title=None, path=None, ax=None):
    """Draw segment lists as horizontal bars, one row each (e.g. raw, smoothed, truth).

    matplotlib is imported here, so it stays an optional dependency.

    Parameters
    ----------
    segment_lists : segments or list of segments
        Each a list of dicts or a DataFrame of one stream (see
        :class:`GMMSegmentSmoother`); a single one draws one row. Times in seconds give
        a seconds axis, datetimes a date axis.

    titles : list of str, default=None
        Row names, top to bottom. None: ``row 0``, ``row 1``, ...

    colors : dict, default=None
        ``{label: colour}``. Labels not in it take colours of matplotlib's ``tab10``
        cycle; the original three labels have their colours by default.

    title : str, default=None
        Figure title.

    path : str or path-like, default=None
        Save the figure there (format from the extension).

    ax : matplotlib Axes, default=None
        Draw on it; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        Row ``i`` (from the top) holds one bar per segment of ``segment_lists[i]``.

    See Also
    --------
    GMMSegmentSmoother : Produces the smoothed rows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklaudio.segments import plot_segments
    >>> raw = [{"start": 0, "end": 2, "label": "background"},
    ...        {"start": 2, "end": 3, "label": "foreground"}]
    >>> ax = plot_segments([raw, raw[:1]], titles=["raw", "first"])
    >>> len(ax.patches)
    3
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if not isinstance(segment_lists, (list, tuple)) or (
        len(segment_lists) and isinstance(segment_lists[0], dict)
    ):
        segment_lists = [segment_lists]
    n = len(segment_lists)
    titles = list(titles) if titles is not None else [f"row {i}" for i in range(n)]
    if len(titles) != n:
        raise ValueError(f"titles has {len(titles)} names for {n} segment lists.")
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 1 + 0.6 * n))
    palette = dict(_DEFAULT_COLORS)
    palette.update(colors or {})
    cycle = plt.get_cmap("tab10").colors
    used = {}
    is_date = False
    for row, segs in enumerate(segment_lists):
        seg = to_arrays(segs, caller="plot_segments")
        labels = seg.classes[seg.code]
        if seg.form["time_kind"] == "datetime":
            import matplotlib.dates as mdates

            origin = np.datetime64(int(seg.form["origin"]), "ns")
            left = mdates.date2num(origin + (seg.start * 1e9).astype("timedelta64[ns]"))
            right = mdates.date2num(origin + (seg.end * 1e9).astype("timedelta64[ns]"))
            is_date = True
        else:
            left, right = seg.start, seg.end
        for lab in dict.fromkeys(labels.tolist()):
            if lab not in palette:
                palette[lab] = cycle[len([k for k in palette if k not in _DEFAULT_COLORS]) % 10]
            used[lab] = palette[lab]
        y = n - 1 - row
        ax.barh(np.full(len(left), y), right - left, left=left, height=0.8,
                color=[palette[v] for v in labels.tolist()], edgecolor="none")
    ax.set_yticks(np.arange(n)[::-1], titles)
    if is_date:
        ax.xaxis_date()
    else:
        ax.set_xlabel("time (s)")
    ax.legend(handles=[Patch(color=c, label=str(k)) for k, c in used.items()],
              loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    if path is not None:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax
