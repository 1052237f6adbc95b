"""Metrics for segment streams: frame error rate, segment-based and event-based F1."""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from sklaudio.segments._table import join_runs, to_arrays

__all__ = ["event_f1", "frame_error_rate", "make_segment_scorer", "segment_f1"]


def _pair(y_true, y_pred, caller):
    t = to_arrays(y_true, caller=caller)
    p = to_arrays(y_pred, caller=caller)
    classes = np.unique(np.r_[t.classes.astype(object), p.classes.astype(object)].astype(str))
    # compare labels by their string form, so 'speech' from CSV matches 'speech' from JSON
    tc = np.searchsorted(classes, t.classes.astype(str))[t.code]
    pc = np.searchsorted(classes, p.classes.astype(str))[p.code]
    if t.n_streams != p.n_streams:
        raise ValueError(
            f"{caller}: y_true has {t.n_streams} stream(s) and y_pred {p.n_streams}; pass the "
            "same streams in the same order."
        )
    if t.form.get("time_kind") != p.form.get("time_kind"):
        raise TypeError(f"{caller}: y_true and y_pred must both use seconds or both datetimes.")
    shift = 0.0
    if t.form.get("time_kind") == "datetime":  # align both on the earlier origin
        shift = (p.form["origin"] - t.form["origin"]) / 1e9
    return (t.start, t.end, tc, t.stream), (p.start + shift, p.end + shift, pc, p.stream), classes


def _group_offsets(n_groups, *pairs):
    """Per-group time shifts that lay groups end to end, so one sorted key orders
    (group, time) without the precision loss of ``group * 1e12 + time``."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    for t0, t1, g in pairs:
        np.minimum.at(lo, g, t0)
        np.maximum.at(hi, g, t1)
    lo[~np.isfinite(lo)] = 0.0
    hi[~np.isfinite(hi)] = 0.0
    width = hi - lo + 1.0
    return np.r_[0.0, np.cumsum(width)[:-1]] - lo


def _label_at(start, end, code, stream, q, qsid):
    """Label code at times ``q`` of streams ``qsid``; -1 where no segment covers them."""
    n = int(max(stream.max(), qsid.max())) + 1
    off = _group_offsets(n, (start, end, stream), (q, q, qsid))
    key_seg = start + off[stream]  # streams contiguous and sorted: a monotone key
    i = np.searchsorted(key_seg, q + off[qsid], side="right") - 1
    ok = (i >= 0) & (stream[np.clip(i, 0, None)] == qsid) & (q < end[np.clip(i, 0, None)])
    return np.where(ok, code[np.clip(i, 0, None)], -1)


def frame_error_rate(y_true, y_pred, *, resolution=0.01):
    """Fraction of reference frames whose predicted label differs.

    Frames of ``resolution`` seconds tile each reference stream's span; a frame is
    judged by the labels at its centre. Frames not covered by the reference (gaps) are
    left out; frames the prediction does not cover count as errors.

    Parameters
    ----------
    y_true, y_pred : list of dict, DataFrame or list of streams
        Reference and predicted segments, same streams in the same order.

    resolution : float, default=0.01
        Frame length in seconds.

    Returns
    -------
    error : float
        In [0, 1].

    See Also
    --------
    segment_f1 : Activity-based F1 in one-second blocks.

    Examples
    --------
    >>> from sklaudio.segments import frame_error_rate
    >>> ref = [{"start": 0, "end": 10, "label": "a"}]
    >>> hyp = [{"start": 0, "end": 9, "label": "a"}, {"start": 9, "end": 10, "label": "b"}]
    >>> round(frame_error_rate(ref, hyp, resolution=0.1), 6)
    0.1
    """
    if not resolution > 0:
        raise ValueError(f"resolution must be > 0 seconds; got {resolution!r}.")
    (ts, te, tc, tsid), (ps, pe, pc, psid), _ = _pair(y_true, y_pred, "frame_error_rate")
    n_streams = int(tsid.max()) + 1
    his = np.zeros(n_streams)
    np.maximum.at(his, tsid, te)
    los = np.full(n_streams, np.inf)
    np.minimum.at(los, tsid, ts)
    n = np.ceil((his - los) / resolution - 1e-9).astype(np.int64)
    qsid = np.repeat(np.arange(n_streams), n)
    k = np.arange(n.sum()) - np.repeat(np.r_[0, np.cumsum(n)[:-1]], n)
    q = los[qsid] + (k + 0.5) * resolution
    lt = _label_at(ts, te, tc, tsid, q, qsid)
    lp = _label_at(ps, pe, pc, psid, q, qsid)
    judged = lt >= 0
    if not judged.any():
        raise ValueError("frame_error_rate: the reference covers no frame; check its times.")
    return float(np.mean(lt[judged] != lp[judged]))


def _roll(start, end, code, sid, n_blocks, n_classes, res):
    """sed_eval's event roll per stream: block active if any event of the class touches it."""
    roll = np.zeros((len(n_blocks), int(n_blocks.max()), n_classes), dtype=np.int32)
    on = np.floor(start / res).astype(np.int64)
    off = np.ceil(end / res).astype(np.int64)
    # difference array, then a cumulative sum along time (vectorised over events)
    diff = np.zeros((len(n_blocks), roll.shape[1] + 1, n_classes), dtype=np.int32)
    np.add.at(diff, (sid, on, code), 1)
    np.add.at(diff, (sid, off, code), -1)
    return np.cumsum(diff, axis=1)[:, :-1] > 0


def _select(labels, classes):
    if labels is None:
        return np.arange(len(classes))
    want = np.asarray([str(x) for x in labels])
    return np.flatnonzero(np.isin(classes, want))


def segment_f1(y_true, y_pred, *, time_resolution=1.0, labels=None):
    """Segment-based F1 as in sed_eval (overall, micro-averaged over classes).

    Time is cut into blocks of ``time_resolution`` seconds from 0; a class is active in a
    block when any of its events touches it (``floor(onset)`` to ``ceil(offset)``, as
    sed_eval's event roll). True positives are (block, class) pairs active in both.
    ``F1 = 2 TP / (n_ref + n_sys)``.

    Parameters
    ----------
    y_true, y_pred : list of dict, DataFrame or list of streams
        Reference and predicted segments (times in seconds from the file's start).

    time_resolution : float, default=1.0
        Block length in seconds.

    labels : list of labels, default=None
        Classes scored (e.g. ``["speech"]``). None: every label seen.

    Returns
    -------
    f1 : float
        In [0, 1]; 1.0 when neither side has any active block.

    See Also
    --------
    event_f1 : Event-based F1 with onset/offset collars.

    Examples
    --------
    >>> from sklaudio.segments import segment_f1
    >>> ref = [{"start": 0.0, "end": 2.5, "label": "speech"},
    ...        {"start": 2.5, "end": 4.0, "label": "silence"}]
    >>> hyp = [{"start": 0.0, "end": 3.2, "label": "speech"},
    ...        {"start": 3.2, "end": 4.0, "label": "silence"}]
    >>> round(segment_f1(ref, hyp, labels=["speech"]), 4)  # ref blocks 0-2, hyp 0-3
    0.8571
    """
    (ts, te, tc, tsid), (ps, pe, pc, psid), classes = _pair(y_true, y_pred, "segment_f1")
    res = float(time_resolution)
    n_streams = int(max(tsid.max(), psid.max())) + 1
    n_blocks = np.zeros(n_streams, dtype=np.int64)
    np.maximum.at(n_blocks, tsid, np.ceil(te / res).astype(np.int64))
    np.maximum.at(n_blocks, psid, np.ceil(pe / res).astype(np.int64))
    rt = _roll(ts, te, tc, tsid, n_blocks, len(classes), res)
    rp = _roll(ps, pe, pc, psid, n_blocks, len(classes), res)
    sel = _select(labels, classes)
    rt, rp = rt[..., sel], rp[..., sel]
    tp = np.sum(rt & rp)
    denom = rt.sum() + rp.sum()
    return 1.0 if denom == 0 else float(2 * tp / denom)


def event_f1(y_true, y_pred, *, t_collar=0.2, percentage_of_length=0.5, labels=None):
    """Event-based F1 as in sed_eval (onset and offset, overall, micro-averaged).

    Events are the maximal runs of one label (touching segments of the same label are
    one event). A predicted event matches a reference event of the same label and stream
    when its onset is within ``t_collar`` seconds and its offset within
    ``max(t_collar, percentage_of_length * reference duration)``; each event matches at
    most once, and the number of matches is maximised (sed_eval's "optimal" matching).
    ``F1 = 2 TP / (n_ref + n_sys)``.

    Parameters
    ----------
    y_true, y_pred : list of dict, DataFrame or list of streams
        Reference and predicted segments.

    t_collar : float, default=0.2
        Onset (and minimum offset) tolerance in seconds.

    percentage_of_length : float, default=0.5
        Offset tolerance as a fraction of the reference event's duration.

    labels : list of labels, default=None
        Classes scored. None: every label seen.

    Returns
    -------
    f1 : float
        In [0, 1]; 1.0 when neither side has an event of the scored classes.

    See Also
    --------
    segment_f1 : Activity-based F1 in fixed blocks.

    Examples
    --------
    >>> from sklaudio.segments import event_f1
    >>> ref = [{"start": 1.0, "end": 3.0, "label": "dog"},
    ...        {"start": 5.0, "end": 6.0, "label": "dog"}]
    >>> hyp = [{"start": 1.1, "end": 3.5, "label": "dog"},
    ...        {"start": 5.5, "end": 6.0, "label": "dog"}]
    >>> event_f1(ref, hyp)  # first matches (offset within 50 % of 2 s), second onset too late
    0.5
    """
    (ts, te, tc, tsid), (ps, pe, pc, psid), classes = _pair(y_true, y_pred, "event_f1")
    ts, te, tc, tsid = join_runs(ts, te, tc, tsid)
    ps, pe, pc, psid = join_runs(ps, pe, pc, psid)
    sel = _select(labels, classes)
    mt, mp = np.isin(tc, sel), np.isin(pc, sel)
    ts, te, tc, tsid = ts[mt], te[mt], tc[mt], tsid[mt]
    ps, pe, pc, psid = ps[mp], pe[mp], pc[mp], psid[mp]
    n_ref, n_sys = len(ts), len(ps)
    if n_ref + n_sys == 0:
        return 1.0
    if n_ref == 0 or n_sys == 0:
        return 0.0
    # candidates: predicted events of the same stream and label with onset in the collar
    K = len(classes)
    gp, gt = psid * K + pc, tsid * K + tc
    off = _group_offsets(int(max(gp.max(), gt.max())) + 1, (ps, pe, gp), (ts, te, gt))
    order = np.lexsort((ps, gp))
    pkey = ps[order] + off[gp[order]]
    tkey = ts + off[gt]
    lo = np.searchsorted(pkey, tkey - t_collar - 1e-9, side="left")
    hi = np.searchsorted(pkey, tkey + t_collar + 1e-9, side="right")
    cnt = hi - lo
    rows = np.repeat(np.arange(n_ref), cnt)
    cols = order[np.repeat(lo, cnt) + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)]
    ok = (
        (psid[cols] == tsid[rows]) & (pc[cols] == tc[rows])
        & (np.abs(ps[cols] - ts[rows]) <= t_collar + 1e-9)
        & (np.abs(pe[cols] - te[rows])
           <= np.maximum(t_collar, percentage_of_length * (te[rows] - ts[rows])) + 1e-9)
    )
    graph = csr_matrix((np.ones(ok.sum()), (rows[ok], cols[ok])), shape=(n_ref, n_sys))
    tp = int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())
    return float(2 * tp / (n_ref + n_sys))


_SCORERS = {
    "frame_error": (lambda t, p, **kw: -frame_error_rate(t, p, **kw), {"resolution": 0.01}),
    "segment_f1": (segment_f1, {}),
    "event_f1": (event_f1, {}),
}


class _SegmentScorer:
    """Callable ``scorer(estimator, X, y)``: smooth ``X`` and compare with ``y``."""

    def __init__(self, metric, kwargs):
        self.metric = metric
        self.kwargs = kwargs

    def __call__(self, estimator, X, y, sample_weight=None):
        func, _ = _SCORERS[self.metric]
        return float(func(y, estimator.transform(X), **self.kwargs))

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_segment_scorer({self.metric!r}{args})"


def make_segment_scorer(metric="frame_error", **kwargs):
    """A scorer that tunes segment smoothers on annotated streams with scikit-learn.

    The scorer smooths the detector's segments ``X`` with the fitted smoother and
    compares them with the reference segments ``y``; higher is better, as
    :class:`~sklearn.model_selection.GridSearchCV` expects. Pass ``X`` and ``y`` as lists
    of streams (one DataFrame or list of dicts per recording) and the recordings as
    ``groups`` of a group-aware splitter, so no recording is split between training and
    scoring.

    Parameters
    ----------
    metric : {"frame_error", "segment_f1", "event_f1"}, default="frame_error"
        ``"frame_error"`` scores ``-frame_error_rate`` (10 ms frames unless
        ``resolution`` is given); the F1 metrics score as they are.

    **kwargs : dict
        Passed to the metric (e.g. ``labels=["speech"]`` or ``t_collar=0.2``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    See Also
    --------
    frame_error_rate, segment_f1, event_f1 : The metrics.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.model_selection import GridSearchCV, GroupKFold
    >>> from sklaudio.segments import ViterbiSmoother, make_segment_scorer
    >>> def stream(blip):  # speech 0-10 s with a blip of silence, then silence
    ...     return pd.DataFrame({"start": [0, 4, 4 + blip, 10], "end": [4, 4 + blip, 10, 20],
    ...                          "label": ["speech", "silence", "speech", "silence"]})
    >>> X = [stream(b) for b in (0.6, 0.8, 0.7, 0.9)]
    >>> y = [pd.DataFrame({"start": [0, 10], "end": [10, 20], "label": ["speech", "silence"]})] * 4
    >>> search = GridSearchCV(ViterbiSmoother(), {"switch_penalty": [0.1, 0.5, 1.0]},
    ...                       scoring=make_segment_scorer(), cv=GroupKFold(2))
    >>> search.fit(X, y, groups=[0, 1, 2, 3]).best_params_
    {'switch_penalty': 0.5}
    """
    if metric not in _SCORERS:
        raise ValueError(f"metric must be one of {sorted(_SCORERS)}; got {metric!r}.")
    defaults = dict(_SCORERS[metric][1])
    defaults.update(kwargs)
    return _SegmentScorer(metric, defaults)
