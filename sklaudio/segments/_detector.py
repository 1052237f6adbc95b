"""SegmentDetector: a clip classifier slid over long recordings, emitting segments."""

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from sklaudio.segments._table import join_runs
from sklaudio.utils._audio import check_clips, resolve_sr
from sklaudio.utils._compat import HasMethods, Interval, _fit_context, check_is_fitted

__all__ = ["SegmentDetector"]


def _windows(y, n_win, n_hop):
    """Frames of ``n_win`` samples every ``n_hop`` (zero-padded at the end)."""
    n = max(1, int(np.ceil(max(len(y) - n_win, 0) / n_hop)) + 1)
    need = (n - 1) * n_hop + n_win
    if need > len(y):
        y = np.r_[y, np.zeros(need - len(y), dtype=y.dtype)]
    idx = np.arange(n_win)[None, :] + n_hop * np.arange(n)[:, None]
    return y[idx]


class SegmentDetector(BaseEstimator):
    """Turn a clip classifier into a detector over long recordings.

    Each recording is cut into windows of ``window`` seconds every ``hop`` seconds (the
    last one zero-padded); the classifier labels each window (a matrix
    ``(n_windows, n_samples)`` goes through its ``predict``); window ``k`` speaks for
    the ``hop`` seconds around its centre (the first and last ones stretch to the
    recording's edges). Runs of one label become segments, optionally smoothed.

    Parameters
    ----------
    estimator : estimator with ``predict``
        A clip classifier (e.g. a pipeline of features and a classifier) taking a
        matrix of clips ``(n_clips, n_samples)``. Used as is if :meth:`fit` gets no
        clips (it must then be fitted); else a clone is fitted.

    window : float, default=1.0
        Window length in seconds (the clip length the classifier was trained on).

    hop : float, default=0.5
        Step between windows in seconds.

    sr : int, default=None
        Sampling rate; None follows the recordings' carried ``sr`` (else 22050).

    smoother : segment smoother, default=None
        Applied to the detected segments of all recordings: used as is when fitted,
        else a clone is fitted on them (``fit_transform``).

    Attributes
    ----------
    estimator_ : estimator
        The classifier used.

    See Also
    --------
    GMMSegmentSmoother : Smooth the detected segments.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklaudio.segments import SegmentDetector
    >>> sr = 1000
    >>> rms = FunctionTransformer(
    ...     lambda X: np.sqrt(np.mean(np.asarray(X) ** 2, axis=1, keepdims=True)))
    >>> clf = make_pipeline(rms, DecisionTreeClassifier()).fit(
    ...     np.r_[np.zeros((5, sr)), np.ones((5, sr))], ["quiet"] * 5 + ["loud"] * 5)
    >>> y = np.r_[np.zeros(3 * sr), np.ones(2 * sr)]
    >>> SegmentDetector(clf, window=1.0, hop=1.0, sr=sr).fit().predict([y])
       stream  start  end  label
    0       0    0.0  3.0  quiet
    1       0    3.0  5.0   loud
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["predict"])],
        "window": [Interval(Real, 0, None, closed="neither")],
        "hop": [Interval(Real, 0, None, closed="neither")],
        "sr": [None, Interval(Real, 0, None, closed="neither")],
        "smoother": [None, HasMethods(["transform"])],
    }

    def __init__(self, estimator, *, window=1.0, hop=0.5, sr=None, smoother=None):
        self.estimator = estimator
        self.window = window
        self.hop = hop
        self.sr = sr
        self.smoother = smoother

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X=None, y=None):
        """Use the given fitted classifier, or fit a clone on clips ``X``, ``y``.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples), default=None
            Training clips of ``window`` seconds; None uses ``estimator`` as fitted.

        y : array-like of shape (n_clips,), default=None
            Labels of the training clips.

        Returns
        -------
        self : SegmentDetector
            The detector.
        """
        if X is None:
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict(self, X):
        """Segments of each recording.

        Parameters
        ----------
        X : sequence of 1-D arrays, or ndarray of shape (n_recordings, n_samples)
            Long recordings (a single 1-D array is one recording).

        Returns
        -------
        segments : DataFrame
            Columns ``stream`` (recording index), ``start``, ``end`` (seconds),
            ``label``; gap-free over each recording.
        """
        check_is_fitted(self, "estimator_")
        if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype != object:
            X = [X]
        sr = resolve_sr(self.sr, X, caller=type(self).__name__)
        clips, is_matrix = check_clips(X, caller=type(self).__name__)
        if is_matrix:
            clips = list(clips)
        n_win = max(1, int(round(self.window * sr)))
        n_hop = max(1, int(round(self.hop * sr)))
        starts, ends, labels, sids = [], [], [], []
        for k, y in enumerate(clips):
            frames = _windows(np.asarray(y), n_win, n_hop)
            lab = np.asarray(self.estimator_.predict(frames))
            dur = len(y) / sr
            centre = (np.arange(len(frames)) * n_hop + n_win / 2) / sr
            b = np.clip(centre[:-1] + self.hop / 2, 0, dur) if len(frames) > 1 else np.zeros(0)
            edges = np.r_[0.0, b, dur]
            keep = edges[1:] > edges[:-1]
            starts.append(edges[:-1][keep])
            ends.append(edges[1:][keep])
            labels.append(lab[keep])
            sids.append(np.full(keep.sum(), k))
        labels = np.concatenate(labels)
        classes, code = np.unique(labels, return_inverse=True)
        s, e, c, sid = join_runs(np.concatenate(starts), np.concatenate(ends), code,
                                 np.concatenate(sids))
        out = pd.DataFrame({"stream": sid, "start": s, "end": e, "label": classes[c]})
        if self.smoother is not None:
            sm = self.smoother
            try:
                check_is_fitted(sm)
                out = sm.transform(out)
            except Exception as exc:  # not fitted: fit it on the detections
                if type(exc).__name__ != "NotFittedError":
                    raise
                out = clone(sm).fit_transform(out)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
