"""Baseline smoothers: minimum durations, majority filter over frames, Viterbi."""

import math
from numbers import Integral, Real

import numba
import numpy as np

from sklaudio.segments._base import SMOOTHER_DOCS, BaseSegmentSmoother
from sklaudio.segments._table import join_runs, stream_edges
from sklaudio.utils._compat import Interval, _fit_context
from sklaudio.utils._docstring import Substitution

__all__ = ["MedianFilterSmoother", "MinDurationSmoother", "ViterbiSmoother"]


def _stream_spans(start, end, stream, n_streams):
    lo = np.searchsorted(stream, np.arange(n_streams))
    hi = np.searchsorted(stream, np.arange(n_streams), side="right") - 1
    return start[lo], end[hi]


def _require_gap_free(seg, caller):
    same = seg.stream[1:] == seg.stream[:-1]
    bad = np.flatnonzero(same & (seg.start[1:] != seg.end[:-1]))
    if len(bad):
        i = bad[0]
        raise ValueError(
            f"{caller} needs gap-free streams; stream {seg.stream[i]} has a gap between "
            f"{float(seg.end[i])!r} and {float(seg.start[i + 1])!r} s (after its segment {i}). "
            "Fill gaps "
            "with an explicit label first, or use GMMSegmentSmoother, which keeps gaps."
        )


@Substitution(tolerance=SMOOTHER_DOCS["tolerance"])
class MinDurationSmoother(BaseSegmentSmoother):
    """Minimum-duration smoothing with pyannote's ``Binarize`` rules.

    Binary streams: the ``positive`` class's regions are padded by ``pad_onset`` and
    ``pad_offset`` (clipped to the stream), regions closer than ``min_duration_off``
    are joined (the gap becomes positive), then regions shorter than ``min_duration_on``
    are removed; everything else is the other class. Comparisons are strict, as in
    pyannote (a gap of exactly ``min_duration_off`` stays).

    Parameters
    ----------
    min_duration_on : float, default=0.0
        Remove positive regions shorter than this (seconds).

    min_duration_off : float, default=0.0
        Fill negative gaps between positive regions shorter than this (seconds).

    pad_onset : float, default=0.0
        Extend each positive region this much earlier (seconds).

    pad_offset : float, default=0.0
        Extend each positive region this much later (seconds).

    positive : label, default=None
        The active class. None: the last of the two sorted classes (``foreground``,
        ``speech``, ``1``, ``True``).

    {tolerance}

    Attributes
    ----------
    is_fitted_ : bool
        Set by :meth:`fit` (nothing is learned).

    See Also
    --------
    GMMSegmentSmoother : Learns the duration thresholds from the data.
    pyannote.audio.utils.signal.Binarize : The rules followed here.

    Examples
    --------
    >>> from sklaudio.segments import MinDurationSmoother
    >>> segs = [{"start": 0, "end": 5, "label": "speech"},
    ...         {"start": 5, "end": 5.2, "label": "silence"},
    ...         {"start": 5.2, "end": 9, "label": "speech"},
    ...         {"start": 9, "end": 10, "label": "silence"},
    ...         {"start": 10, "end": 10.1, "label": "speech"},
    ...         {"start": 10.1, "end": 12, "label": "silence"}]
    >>> out = MinDurationSmoother(min_duration_on=0.5, min_duration_off=0.5).fit_transform(segs)
    >>> [(d["start"], d["end"], d["label"]) for d in out]
    [(0.0, 9.0, 'speech'), (9.0, 12.0, 'silence')]
    """

    _parameter_constraints: dict = {
        "min_duration_on": [Interval(Real, 0, None, closed="left")],
        "min_duration_off": [Interval(Real, 0, None, closed="left")],
        "pad_onset": [Interval(Real, 0, None, closed="left")],
        "pad_offset": [Interval(Real, 0, None, closed="left")],
        "positive": "no_validation",
        "tolerance": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self, *, min_duration_on=0.0, min_duration_off=0.0, pad_onset=0.0, pad_offset=0.0,
        positive=None, tolerance=1e-6,
    ):
        self.min_duration_on = min_duration_on
        self.min_duration_off = min_duration_off
        self.pad_onset = pad_onset
        self.pad_offset = pad_offset
        self.positive = positive
        self.tolerance = tolerance

    def _smooth(self, seg):
        caller = type(self).__name__
        _require_gap_free(seg, caller)
        classes = seg.classes
        if self.positive is None:
            if len(classes) > 2:
                raise ValueError(
                    f"{caller} smooths one class against the rest; the segments have "
                    f"{len(classes)} classes {classes.tolist()}: set positive=<label>."
                )
            pos = len(classes) - 1
        else:
            hits = np.flatnonzero(classes == self.positive)
            if len(hits) == 0:
                raise ValueError(
                    f"positive={self.positive!r} is not among the labels {classes.tolist()}."
                )
            pos = int(hits[0])
        if len(classes) > 2:
            raise ValueError(
                f"{caller} needs binary streams (positive vs one other class); got "
                f"{classes.tolist()}. Map the other classes to one label first."
            )
        neg = 1 - pos if len(classes) == 2 else -1
        s, e, c, sid = join_runs(seg.start, seg.end, seg.code, seg.stream)
        lo, hi = _stream_spans(s, e, sid, seg.n_streams)
        m = c == pos
        ps, pe, psid = s[m] - self.pad_onset, e[m] + self.pad_offset, sid[m]
        ps = np.maximum(ps, lo[psid])
        pe = np.minimum(pe, hi[psid])
        if len(ps):
            # join regions that overlap after padding or whose gap is < min_duration_off
            gap = ps[1:] - pe[:-1]
            cont = (psid[1:] == psid[:-1]) & ((gap <= 0) | (gap < self.min_duration_off))
            newr = np.r_[True, ~cont]
            first = np.flatnonzero(newr)
            ps, pe, psid = ps[first], np.maximum.reduceat(pe, first), psid[first]
            keep = (pe - ps) >= self.min_duration_on
            ps, pe, psid = ps[keep], pe[keep], psid[keep]
        if neg < 0:  # a single class: nothing else to fill with
            neg = pos
        return _fill(ps, pe, psid, lo, hi, pos, neg)


def _fill(ps, pe, psid, lo, hi, pos, neg):
    """Positive regions plus negative fill covering each stream's span, joined."""
    n_streams = len(lo)
    # negative pieces: before each region, and after the last region of each stream
    prev_end = np.r_[0.0, pe[:-1]] if len(ps) else np.zeros(0)
    if len(ps):
        first, _ = stream_edges(psid)
        prev_end[first] = lo[psid[first]]
    ns, ne, nsid = prev_end, ps, psid
    last_end = np.array(lo, dtype=float)
    if len(ps):
        _, lastm = stream_edges(psid)
        last_end[psid[lastm]] = pe[lastm]
    start = np.r_[ps, ns, last_end]
    end = np.r_[pe, ne, hi]
    code = np.r_[np.full(len(ps), pos), np.full(len(ns), neg), np.full(n_streams, neg)]
    sid = np.r_[psid, nsid, np.arange(n_streams)]
    ok = end > start
    start, end, code, sid = start[ok], end[ok], code[ok], sid[ok]
    order = np.lexsort((start, sid))
    return join_runs(start[order], end[order], code[order].astype(np.intp), sid[order])


@numba.njit(cache=True, nogil=True)
def _centre(k, lo, hi, fd):
    return min(lo + k * fd + fd / 2, hi - 1e-12)


@numba.njit(cache=True, nogil=True)
def _frame_label(k, p, b, s, c, lo, hi, fd):
    """Label of frame ``k`` (the segment holding its centre) and the segment's index;
    ``p`` only moves forward."""
    centre = _centre(k, lo, hi, fd)
    while p + 1 < b and s[p + 1] <= centre:
        p += 1
    return c[p], p


@numba.njit(cache=True, nogil=True)
def _last_frame(p, b, s, lo, hi, fd, nf, first):
    """Last frame (at least ``first``) whose centre lies in segment ``p``."""
    if p + 1 >= b:
        return nf - 1
    k = min(max(int((s[p + 1] - lo - fd / 2) / fd), first), nf - 1)
    while k + 1 < nf and _centre(k + 1, lo, hi, fd) < s[p + 1]:
        k += 1
    while k > first and _centre(k, lo, hi, fd) >= s[p + 1]:
        k -= 1
    return k


@numba.njit(cache=True, nogil=True)
def _median_kernel(s, e, c, seg_lo, seg_hi, fd, h, n_cls):
    """Majority filter over frame labels, streamed: O(segments * kernel) time and
    O(segments) memory.

    Frame ``k`` of a stream starts at ``lo + k * fd`` and takes the label of the segment
    holding its centre; each frame takes the most frequent label of the ``2h + 1`` frames
    around it (ties keep its own). Inside a segment, once the window holds one label,
    the frames whose windows stay in the segment keep it and are skipped. Returns the
    runs of the new labels.
    """
    cap = len(s) + len(seg_lo) + 16
    o_s = np.empty(cap)
    o_e = np.empty(cap)
    o_c = np.empty(cap, dtype=np.int64)
    o_q = np.empty(cap, dtype=np.int64)
    n_out = 0
    R = 2 * h + 2
    ring = np.zeros(R, dtype=np.int64)
    counts = np.zeros(n_cls, dtype=np.int64)
    for q in range(len(seg_lo)):
        a, b = seg_lo[q], seg_hi[q]
        lo, hi = s[a], e[b - 1]
        # a last frame shorter than float rounding would be an empty segment
        nf = max(int(math.ceil((hi - lo) / fd - 1e-9)), 1)
        counts[:] = 0
        p = a
        loaded = min(h, nf - 1)
        for k in range(loaded + 1):
            lab, p = _frame_label(k, p, b, s, c, lo, hi, fd)
            ring[k % R] = lab
            counts[lab] += 1
        prev = -1
        i = 0
        while i < nf:
            own = ring[i % R]
            best = 0
            for k in range(1, n_cls):
                if counts[k] > counts[best]:
                    best = k
            new = best if counts[best] > counts[own] else own
            if new != prev:
                t = lo if i == 0 else lo + i * fd
                if n_out == cap:  # grow (the filter can split runs of several classes)
                    cap *= 2
                    o_s2 = np.empty(cap)
                    o_e2 = np.empty(cap)
                    o_c2 = np.empty(cap, dtype=np.int64)
                    o_q2 = np.empty(cap, dtype=np.int64)
                    o_s2[:n_out] = o_s[:n_out]
                    o_e2[:n_out] = o_e[:n_out]
                    o_c2[:n_out] = o_c[:n_out]
                    o_q2[:n_out] = o_q[:n_out]
                    o_s, o_e, o_c, o_q = o_s2, o_e2, o_c2, o_q2
                if prev >= 0:
                    o_e[n_out - 1] = t
                o_s[n_out] = t
                o_c[n_out] = new
                o_q[n_out] = q
                n_out += 1
                prev = new
            width = loaded - max(i - h, 0) + 1
            if counts[own] == width and loaded == i + h:
                # the window is one label, the segment of its last frame holds it:
                # every frame whose window ends inside that segment keeps it
                k_end = _last_frame(p, b, s, lo, hi, fd, nf, loaded)
                nxt = k_end - h + 1
                if nxt > i + 1:
                    counts[:] = 0
                    loaded = min(nxt + h, nf - 1)
                    for k in range(max(nxt - h, 0), loaded + 1):
                        if k <= k_end:
                            lab = own
                        else:
                            lab, p = _frame_label(k, p, b, s, c, lo, hi, fd)
                        ring[k % R] = lab
                        counts[lab] += 1
                    i = nxt
                    continue
            i += 1
            if i < nf:
                k = i + h
                if k < nf:
                    lab, p = _frame_label(k, p, b, s, c, lo, hi, fd)
                    ring[k % R] = lab
                    counts[lab] += 1
                    loaded = k
                if i - h - 1 >= 0:
                    counts[ring[(i - h - 1) % R]] -= 1
        o_e[n_out - 1] = hi
    return o_s[:n_out].copy(), o_e[:n_out].copy(), o_c[:n_out].copy(), o_q[:n_out].copy()


@numba.njit(cache=True, nogil=True)
def _viterbi_kernel(s, e, c, sid, n_cls, pen):
    """Cheapest label path per stream: disagreeing seconds plus ``pen`` per switch."""
    n = len(s)
    path = np.empty(n, dtype=np.int64)
    back = np.empty((n, n_cls), dtype=np.int64)
    cost = np.empty(n_cls)
    a = 0
    while a < n:
        b = a + 1
        while b < n and sid[b] == sid[a]:
            b += 1
        for k in range(n_cls):
            cost[k] = 0.0 if k == c[a] else e[a] - s[a]
        for i in range(a + 1, b):
            p = 0.0 if s[i] != e[i - 1] else pen  # the path may switch freely across a gap
            j = 0
            for k in range(1, n_cls):
                if cost[k] < cost[j]:
                    j = k
            switch = cost[j] + p
            d = e[i] - s[i]
            for k in range(n_cls):
                if switch < cost[k]:
                    back[i, k] = j
                    cost[k] = switch
                else:
                    back[i, k] = k
                if k != c[i]:
                    cost[k] += d
        k = 0
        for q in range(1, n_cls):
            if cost[q] < cost[k]:
                k = q
        for i in range(b - 1, a - 1, -1):
            path[i] = k
            k = back[i, k]
        a = b
    return path


@Substitution(tolerance=SMOOTHER_DOCS["tolerance"])
class MedianFilterSmoother(BaseSegmentSmoother):
    """Majority (median) filter over frame labels.

    Each stream is sampled at ``frame_duration`` (label at the frame centre), each frame
    takes the most frequent label among the ``kernel_size`` frames centred on it
    (the median for two classes; ties keep the frame's own label; the window shrinks at
    the stream's ends), and runs of frames become segments. Boundaries move to frame
    edges; each stream keeps its exact start and end.

    Parameters
    ----------
    frame_duration : float, default=0.1
        Frame length in seconds.

    kernel_size : int, default=11
        Odd number of frames in the filter window.

    {tolerance}

    Attributes
    ----------
    is_fitted_ : bool
        Set by :meth:`fit` (nothing is learned).

    See Also
    --------
    scipy.signal.medfilt : The two-class equivalent on 0/1 frames.

    Examples
    --------
    >>> from sklaudio.segments import MedianFilterSmoother
    >>> segs = [{"start": 0, "end": 2, "label": "a"}, {"start": 2, "end": 2.2, "label": "b"},
    ...         {"start": 2.2, "end": 4, "label": "a"}]
    >>> MedianFilterSmoother(frame_duration=0.1, kernel_size=5).fit_transform(segs)
    [{'start': 0.0, 'end': 4.0, 'label': 'a'}]
    """

    _parameter_constraints: dict = {
        "frame_duration": [Interval(Real, 0, None, closed="neither")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "tolerance": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, frame_duration=0.1, kernel_size=11, tolerance=1e-6):
        self.frame_duration = frame_duration
        self.kernel_size = kernel_size
        self.tolerance = tolerance

    @Substitution(fit_args=SMOOTHER_DOCS["fit_args"])
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate parameters and segments (nothing is learned).

        Parameters
        ----------
        {fit_args}

        Returns
        -------
        self : MedianFilterSmoother
            The smoother.
        """
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {self.kernel_size}.")
        return super().fit(X)

    def _smooth(self, seg):
        _require_gap_free(seg, type(self).__name__)
        sid = seg.stream
        q = np.arange(seg.n_streams)
        seg_lo = np.searchsorted(sid, q).astype(np.int64)
        seg_hi = np.searchsorted(sid, q, side="right").astype(np.int64)
        s, e, c, qs = _median_kernel(
            seg.start, seg.end, seg.code.astype(np.int64), seg_lo, seg_hi,
            float(self.frame_duration), int(self.kernel_size // 2), max(len(seg.classes), 1))
        return join_runs(s, e, c.astype(np.intp), qs.astype(np.intp))


@Substitution(tolerance=SMOOTHER_DOCS["tolerance"])
class ViterbiSmoother(BaseSegmentSmoother):
    """Most likely label path with a penalty per label switch (inaSpeechSegmenter's idea).

    The path may change label only at input boundaries. Keeping a label that disagrees
    with the input costs its duration in seconds; each switch costs ``switch_penalty``
    seconds. An isolated segment of duration ``d`` between two segments of another label
    is therefore relabelled exactly when ``d < 2 * switch_penalty``. Dynamic programming
    runs over the joined segments of each stream (compiled, linear in the segments).

    Parameters
    ----------
    switch_penalty : float, default=0.5
        Cost of one label switch, in seconds of disagreement.

    {tolerance}

    Attributes
    ----------
    is_fitted_ : bool
        Set by :meth:`fit` (nothing is learned).

    See Also
    --------
    MinDurationSmoother : Fixed duration rules.

    Examples
    --------
    >>> from sklaudio.segments import ViterbiSmoother
    >>> segs = [{"start": 0, "end": 3, "label": "a"}, {"start": 3, "end": 3.8, "label": "b"},
    ...         {"start": 3.8, "end": 6, "label": "a"}]
    >>> len(ViterbiSmoother(switch_penalty=0.5).fit_transform(segs))
    1
    >>> len(ViterbiSmoother(switch_penalty=0.3).fit_transform(segs))
    3
    """

    _parameter_constraints: dict = {
        "switch_penalty": [Interval(Real, 0, None, closed="left")],
        "tolerance": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, switch_penalty=0.5, tolerance=1e-6):
        self.switch_penalty = switch_penalty
        self.tolerance = tolerance

    def _smooth(self, seg):
        s, e, c, sid = join_runs(seg.start, seg.end, seg.code, seg.stream)
        path = _viterbi_kernel(s, e, c.astype(np.int64), sid.astype(np.int64),
                               max(len(seg.classes), 1), float(self.switch_penalty))
        return join_runs(s, e, path.astype(np.intp), sid)
