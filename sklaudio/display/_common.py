"""What every figure shares: matplotlib imported on use, axes made or reused, labels,
saving, and the parameter documentation."""

import numpy as np

from sklaudio.utils._docstring import DISPLAY_DOCS, Substitution


def _display_docs(*keys):
    """Substitute the named shared parameter entries into a figure function's docstring."""
    return Substitution(**{key: DISPLAY_DOCS[key] for key in keys})


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sklaudio.display needs matplotlib: pip install 'sklaudio[plot]'."
        ) from exc
    return plt


def _axes(ax, *, figsize):
    """``ax`` itself, or the axes of a new figure (headless-safe: no window is opened)."""
    if ax is not None:
        return ax
    fig, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _finish(ax, *, xlabel=None, ylabel=None, title=None):
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def _save(fig, path, *, tight=False):
    """Lay out and save ``fig`` when ``path`` is given; return it."""
    if tight:
        fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _check_clip(y, caller):
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{caller} draws one clip of shape (n_samples,); got shape {arr.shape}. "
            "Pass one clip, e.g. X[0]."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{caller}: the clip holds NaN or infinite samples.")
    return arr


def _as_frame(X, caller):
    """A DataFrame with string column names from a DataFrame or a 2-D array."""
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{caller} expects a table (n_rows, n_columns); got shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
