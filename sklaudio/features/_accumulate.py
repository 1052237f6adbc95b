"""Clip-level statistics of frame series that arrive in chunks (long clips in bounded memory).

:class:`StatsAccumulator` gives, chunk by chunk, what :func:`~sklaudio.features._base.
summarise` gives on the whole series: an extractor reading a long clip piece by piece
(:func:`sklaudio.utils._stream.frame_chunks`) feeds it each piece's frames and asks for
the clip's row at the end.

- ``mean``, ``std``, ``min`` and ``max`` are exact up to float rounding: counts, means
  and sums of squared deviations are kept in float64 and merged chunk by chunk with
  Chan, Golub and LeVeque's pairwise update (no cancellation on long series).
- ``median`` and the percentiles are exact while the series has at most
  ``max_frames`` values. Beyond that they are computed on an evenly spaced subsample:
  the values at indices 0, s, 2s, ... where s is the smallest power of two that keeps
  at most ``max_frames`` of them (so between ``max_frames / 2`` and ``max_frames``).
  The subsample depends only on the series, not on how it was cut into chunks, so the
  estimate is the same on every run and for every ``n_jobs``. Its error: when the order
  of the frames is unrelated to their values, the estimated q-th percentile is the
  true ``q +- e`` percentile with e of the order of ``100 * 0.5 / sqrt(m)`` (m the
  subsample's size; under 0.3 percentile points for the default ``max_frames``). In
  any case, the number of values at or below the estimate in the whole series differs
  from ``s`` times that number in the subsample by at most ``s * (1 + c)``, c the
  number of times the series crosses the estimate: only a series that repeats with a
  period of about s frames can fool it, which speech features do not.
"""

import numpy as np

from sklaudio.features._base import check_stats

__all__ = ["DEFAULT_MAX_FRAMES", "StatsAccumulator"]

#: Frames kept for exact medians and percentiles: 2**16 (11 min of 10 ms frames).
DEFAULT_MAX_FRAMES = 1 << 16


class _Subsample:
    """Values at indices 0, s, 2s, ... of a series given in pieces (along the last axis)."""

    def __init__(self, max_frames):
        self.max_frames = max_frames
        self.stride = 1
        self.seen = 0  # values of the series given so far
        self.parts = []
        self.n_kept = 0

    def add(self, x):
        k = x.shape[-1]
        first = (-self.seen) % self.stride  # first index of x that is a multiple of stride
        kept = x[..., first :: self.stride]
        self.seen += k
        if kept.shape[-1]:
            self.parts.append(kept)
            self.n_kept += kept.shape[-1]
        if self.n_kept > self.max_frames:
            kept = self.values()
            while kept.shape[-1] > self.max_frames:
                # the kept values are at indices 0, s, 2s, ...: keep those at 0, 2s, ...
                kept = kept[..., ::2]
                self.stride *= 2
            self.parts = [np.ascontiguousarray(kept)]
            self.n_kept = kept.shape[-1]

    def values(self):
        if len(self.parts) != 1:
            self.parts = [np.concatenate(self.parts, axis=-1)] if self.parts else []
        return self.parts[0] if self.parts else None


class StatsAccumulator:
    """Statistics of ``n_rows`` frame series given chunk by chunk, as :func:`summarise`.

    See the module docstring for what is exact and how medians and percentiles are
    estimated beyond ``max_frames`` frames.

    Parameters
    ----------
    stats : tuple of {"mean", "std", "min", "max", "median"}
        Statistics, in output order.

    percentiles : tuple of float
        Percentiles in [0, 100], after ``stats``.

    n_rows : int
        Number of series (rows of each chunk).

    ignore_nan : bool, default=False
        Summarise only the finite values of each row, as the formant and f0 features
        do; a row without a finite value gets 0.0 for every statistic. With False a
        NaN propagates as in numpy.

    max_frames : int, default=DEFAULT_MAX_FRAMES
        Values per row kept for the median and the percentiles (exact up to that
        many, estimated beyond).

    Attributes
    ----------
    n_frames : int
        Frames (columns) given so far.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features._accumulate import StatsAccumulator
    >>> F = np.arange(12.0).reshape(2, 6)
    >>> acc = StatsAccumulator(("mean", "max"), (50,), n_rows=2)
    >>> acc.update(F[:, :4])
    >>> acc.update(F[:, 4:])
    >>> acc.result()
    array([[ 2.5,  5. ,  2.5],
           [ 8.5, 11. ,  8.5]])
    """

    def __init__(self, stats, percentiles, *, n_rows, ignore_nan=False,
                 max_frames=DEFAULT_MAX_FRAMES):
        self.stats, self.percentiles = check_stats(stats, percentiles, "StatsAccumulator")
        self.n_rows = int(n_rows)
        self.ignore_nan = bool(ignore_nan)
        if int(max_frames) < 1:
            raise ValueError(f"StatsAccumulator(max_frames={max_frames}) must be at least 1.")
        self.max_frames = int(max_frames)
        self.n_frames = 0
        shape = (self.n_rows,)
        self._count = np.zeros(shape)
        self._mean = np.zeros(shape)
        self._m2 = np.zeros(shape)  # sum of squared deviations from the mean
        self._min = np.full(shape, np.inf)
        self._max = np.full(shape, -np.inf)
        self._needs_order = "median" in self.stats or bool(self.percentiles)
        if not self._needs_order:
            self._sub = None
        elif self.ignore_nan:  # rows keep different numbers of finite values
            self._sub = [_Subsample(self.max_frames) for _ in range(self.n_rows)]
        else:
            self._sub = _Subsample(self.max_frames)

    def update(self, F):
        """Add frames: ``F`` of shape (n_rows, k), one column per frame."""
        F = np.asarray(F)
        if F.ndim != 2 or F.shape[0] != self.n_rows:
            raise ValueError(
                f"StatsAccumulator.update expects an array of shape ({self.n_rows}, k); "
                f"got shape {F.shape}."
            )
        k = F.shape[1]
        if not k:
            return
        self.n_frames += k
        F64 = F.astype(np.float64, copy=False)
        if self.ignore_nan:
            finite = np.isfinite(F64)
            n_b = finite.sum(axis=1).astype(np.float64)
            X = np.where(finite, F64, 0.0)
            mean_b = np.divide(X.sum(axis=1), n_b, out=np.zeros(self.n_rows), where=n_b > 0)
            dev = np.where(finite, F64 - mean_b[:, None], 0.0)
            m2_b = np.einsum("ij,ij->i", dev, dev)
            self._min = np.fmin(self._min, np.where(finite, F64, np.inf).min(axis=1))
            self._max = np.fmax(self._max, np.where(finite, F64, -np.inf).max(axis=1))
        else:
            n_b = np.full(self.n_rows, float(k))
            mean_b = F64.mean(axis=1)
            dev = F64 - mean_b[:, None]
            m2_b = np.einsum("ij,ij->i", dev, dev)
            self._min = np.minimum(self._min, F64.min(axis=1))
            self._max = np.maximum(self._max, F64.max(axis=1))
        self._merge(n_b, mean_b, m2_b)
        if self._sub is None:
            return
        if self.ignore_nan:
            for i, row in enumerate(F):
                self._sub[i].add(row[finite[i]])
        else:
            self._sub.add(F)

    def _merge(self, n_b, mean_b, m2_b):
        # Chan et al.: combine (count, mean, M2) of the frames so far with the chunk's
        n_a = self._count
        n = n_a + n_b
        safe = np.where(n > 0, n, 1.0)
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (n_b / safe)
        self._m2 = self._m2 + m2_b + delta * delta * (n_a * n_b / safe)
        self._count = n

    def result(self):
        """The statistics so far: ndarray of shape (n_rows, len(stats) + len(percentiles))."""
        if self.n_frames == 0:
            raise ValueError("StatsAccumulator.result() before any frame: no statistic.")
        out = np.zeros((self.n_rows, len(self.stats) + len(self.percentiles)))
        n = np.maximum(self._count, 1.0)
        exact = {
            "mean": self._mean,
            "std": np.sqrt(np.maximum(self._m2, 0.0) / n),
            "min": self._min,
            "max": self._max,
        }
        for j, s in enumerate(self.stats):
            if s != "median":
                out[:, j] = exact[s]
        if self._needs_order:
            cols = [j for j, s in enumerate(self.stats) if s == "median"]
            cols += list(range(len(self.stats), out.shape[1]))
            out[:, cols] = self._order_stats("median" in self.stats)
        if self.ignore_nan:
            out[self._count == 0] = 0.0  # no finite value: 0.0, as the whole-clip code
        return out

    def _order_stats(self, median):
        """The median (if asked) then the percentiles of the kept values of each row."""

        def one(v):
            cols = [np.median(v, axis=-1)] if median else []
            if self.percentiles:
                cols.extend(np.percentile(v, list(self.percentiles), axis=-1))
            return np.column_stack(cols) if v.ndim == 2 else np.asarray(cols)

        if not self.ignore_nan:
            return one(self._sub.values())
        out = np.zeros((self.n_rows, int(median) + len(self.percentiles)))
        for i, sub in enumerate(self._sub):
            v = sub.values()
            if v is not None and v.size:
                out[i] = one(v)
        return out
