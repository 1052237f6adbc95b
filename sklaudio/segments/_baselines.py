"""Baseline smoothers: minimum durations, majority filter over frames, Viterbi."""

from numbers import Integral, Real

import numpy as np

from sklaudio.segments._base import BaseSegmentSmoother
from sklaudio.segments._table import join_runs, stream_edges
from sklaudio.utils._compat import Interval, _fit_context

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
            f"{float(seg.end[i])!r} and {float(seg.start[i + 1])!r} s (after its segment {i}). Fill gaps "
            "with an explicit label first, or use GMMSegmentSmoother, which keeps gaps."
        )


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
    }

    def __init__(
        self, *, min_duration_on=0.0, min_duration_off=0.0, pad_onset=0.0, pad_offset=0.0,
        positive=None,
    ):
        self.min_duration_on = min_duration_on
        self.min_duration_off = min_duration_off
        self.pad_onset = pad_onset
        self.pad_offset = pad_offset
        self.positive = positive

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate parameters and segments (nothing is learned).

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : MinDurationSmoother
            The smoother.
        """
        return super().fit(X)

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


def _frames(seg, frame_duration):
    """Frame labels at frame centres, per stream, plus each frame's stream and edges."""
    s, e, c, sid = seg.start, seg.end, seg.code, seg.stream
    lo, hi = _stream_spans(s, e, sid, seg.n_streams)
    n = np.maximum(np.ceil((hi - lo) / frame_duration).astype(np.int64), 1)
    fsid = np.repeat(np.arange(seg.n_streams), n)
    offs = np.r_[0, np.cumsum(n)]
    k = np.arange(offs[-1]) - offs[fsid]
    fstart = lo[fsid] + k * frame_duration
    centre = np.minimum(fstart + frame_duration / 2, hi[fsid] - 1e-12)
    # index of the segment holding each centre (streams are contiguous and sorted)
    idx = np.empty(len(centre), dtype=np.intp)
    seg_lo = np.searchsorted(sid, np.arange(seg.n_streams))
    seg_hi = np.searchsorted(sid, np.arange(seg.n_streams), side="right")
    for q in range(seg.n_streams):  # one searchsorted per stream, not per frame
        a, b = offs[q], offs[q + 1]
        idx[a:b] = seg_lo[q] + np.searchsorted(s[seg_lo[q]:seg_hi[q]], centre[a:b], side="right") - 1
    return c[idx], fsid, fstart, lo, hi, offs


def _frames_to_segments(fcode, fsid, fstart, lo, hi, frame_duration):
    first, last = stream_edges(fsid)
    # one edge array, so a frame's end is bit-identical to the next frame's start
    fend = np.r_[fstart[1:], 0.0]
    fend[last] = hi[fsid[last]]
    fstart = np.where(first, lo[fsid], fstart)
    return join_runs(fstart, fend, fcode.astype(np.intp), fsid)


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
    }

    def __init__(self, *, frame_duration=0.1, kernel_size=11):
        self.frame_duration = frame_duration
        self.kernel_size = kernel_size

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate parameters and segments (nothing is learned).

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments.

        y : Ignored
            Not used, present here for API consistency by convention.

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
        fcode, fsid, fstart, lo, hi, offs = _frames(seg, self.frame_duration)
        n_cls = max(len(seg.classes), 1)
        h = self.kernel_size // 2
        onehot = np.zeros((len(fcode) + 1, n_cls), dtype=np.int32)
        onehot[1:][np.arange(len(fcode)), fcode] = 1
        cum = np.cumsum(onehot, axis=0)
        i = np.arange(len(fcode))
        a = np.maximum(i - h, offs[fsid])
        b = np.minimum(i + h + 1, offs[fsid + 1])
        counts = cum[b] - cum[a]
        own = counts[i, fcode]
        best = counts.argmax(axis=1)
        new = np.where(counts[i, best] > own, best, fcode)
        return _frames_to_segments(new, fsid, fstart, lo, hi, self.frame_duration)


class ViterbiSmoother(BaseSegmentSmoother):
    """Most likely label path with a penalty per label switch (inaSpeechSegmenter's idea).

    The path may change label only at input boundaries. Keeping a label that disagrees
    with the input costs its duration in seconds; each switch costs ``switch_penalty``
    seconds. An isolated segment of duration ``d`` between two segments of another label
    is therefore relabelled exactly when ``d < 2 * switch_penalty``. Dynamic programming
    runs over the joined segments of each stream (a loop over segments: slower than the
    other smoothers on millions of segments).

    Parameters
    ----------
    switch_penalty : float, default=0.5
        Cost of one label switch, in seconds of disagreement.

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
    }

    def __init__(self, *, switch_penalty=0.5):
        self.switch_penalty = switch_penalty

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate parameters and segments (nothing is learned).

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : ViterbiSmoother
            The smoother.
        """
        return super().fit(X)

    def _smooth(self, seg):
        s, e, c, sid = join_runs(seg.start, seg.end, seg.code, seg.stream)
        K = max(len(seg.classes), 1)
        n = len(s)
        dur = e - s
        new_stream, _ = stream_edges(sid)
        # a gap also resets nothing: the path may switch freely across it
        gap = np.r_[False, s[1:] != e[:-1]]
        back = np.zeros((n, K), dtype=np.intp)
        path = np.empty(n, dtype=np.intp)
        ks = np.arange(K)
        cost = np.zeros(K)
        pen = float(self.switch_penalty)
        starts = np.flatnonzero(new_stream)
        ends = np.r_[starts[1:], n]
        for a, b in zip(starts, ends):
            cost = np.where(ks == c[a], 0.0, dur[a])
            for i in range(a + 1, b):
                p = 0.0 if gap[i] else pen
                j = int(cost.argmin())
                stay = cost
                switch = cost[j] + p
                use_switch = switch < stay
                back[i] = np.where(use_switch, j, ks)
                cost = np.where(use_switch, switch, stay) + np.where(ks == c[i], 0.0, dur[i])
            k = int(cost.argmin())
            for i in range(b - 1, a - 1, -1):
                path[i] = k
                k = back[i, k]
        return join_runs(s, e, path, sid)
