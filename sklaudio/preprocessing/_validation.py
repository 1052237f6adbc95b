"""Input normalisation shared by the preprocessing steps.

``sklaudio.utils.check_clips`` reads a 2-D object array, a sparse matrix and an
``__array__``-only array-like as lists of clips; these three cases are mapped to what
they mean before calling it. (Candidates for ``check_clips`` itself.)
"""

import numpy as np
import scipy.sparse as sp


def normalise_input(X, caller):
    """Return ``X`` with sparse, 2-D object and array-like-only inputs resolved."""
    if sp.issparse(X):
        raise TypeError(
            f"Sparse data was passed for X, but dense data is required. {caller} works on "
            "waveforms: use X.toarray()."
        )
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        try:
            return X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{caller} expects audio samples as numbers; X has dtype object with an "
                f"entry that is not one ({exc}). Convert it with X.astype(np.float32)."
            ) from exc
    if not isinstance(X, (np.ndarray, list, tuple)) and not hasattr(X, "iloc") and hasattr(
        X, "__array__"
    ):
        return np.asarray(X)
    return X


def _frame_or_none(X):
    """The input as the row index source for pandas output: only a DataFrame has one.

    (``AudioTransformerMixin._wrap_output`` reads ``X.index``, which on a list is the
    ``list.index`` method.)
    """
    return X if hasattr(X, "iloc") else None
