"""Shared base class of the segment smoothers."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from sklaudio.segments._table import from_arrays, to_arrays
from sklaudio.utils._docstring import Substitution, _entry

__all__ = ["SMOOTHER_DOCS", "BaseSegmentSmoother"]

#: Docstring fragments the smoothers share (see :class:`~sklaudio.utils._docstring.Substitution`).
SMOOTHER_DOCS = {
    "tolerance": _entry("""
tolerance : float, default=1e-6
    Within a stream, a segment starting less than this many seconds before or after
    the previous one ends is snapped to start exactly there (float rounding).
"""),
    "fit_args": _entry("""
X : list of dict, DataFrame or list of streams
    Segments (see :class:`~sklaudio.segments.GMMSegmentSmoother` for the forms).

y : Ignored
    Not used, present here for API consistency by convention.
""", indent=8),
}


class BaseSegmentSmoother(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Segments in, segments out, in the same form; the input is never mutated.

    Subclasses implement ``_smooth(seg)`` returning ``(start, end, code, stream)`` arrays
    and have a ``tolerance`` parameter (boundaries closer than it are snapped together).
    Stateless smoothers inherit this ``fit``, which only validates the input.
    ``set_output`` does not apply: the output is a segment table in the input's form.
    """

    @Substitution(fit_args=SMOOTHER_DOCS["fit_args"])
    def fit(self, X, y=None):
        """Validate the parameters and the segments; stateless smoothers learn nothing.

        Parameters
        ----------
        {fit_args}

        Returns
        -------
        self : object
            The smoother.
        """
        self._validate_params()
        to_arrays(X, caller=type(self).__name__, tolerance=self.tolerance)
        self.is_fitted_ = True
        return self

    def transform(self, X):
        """Smooth the segments of every stream.

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments, sorted and non-overlapping within each stream.

        Returns
        -------
        segments : same form as X
            The smoothed segments (new objects; ``X`` is left untouched).
        """
        from sklaudio.utils._compat import check_is_fitted

        check_is_fitted(self)
        seg = to_arrays(
            X, caller=type(self).__name__, classes=self._known_classes(), tolerance=self.tolerance)
        return from_arrays(seg, *self._smooth(seg))

    def score(self, X, y, sample_weight=None):
        """Negative frame error rate of the smoothed ``X`` against reference segments.

        Higher is better, so :class:`~sklearn.model_selection.GridSearchCV` maximises it
        (pass streams as a list, one reference per stream, and the streams as groups).

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            The detector's segments.

        y : same form as X
            Reference segments of the same streams, in the same order.

        sample_weight : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        score : float
            ``-frame_error_rate(y, self.transform(X))`` at 10 ms frames, in [-1, 0].
        """
        from sklaudio.segments._metrics import frame_error_rate

        return -frame_error_rate(y, self.transform(X), resolution=0.01)

    def _known_classes(self):
        return None

    def get_feature_names_out(self, input_features=None):
        """Column names of the DataFrame form of the output.

        Parameters
        ----------
        input_features : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        names : ndarray of str
            ``["start", "end", "label"]``.
        """
        return np.asarray(["start", "end", "label"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True  # the original list of dicts
        return tags
