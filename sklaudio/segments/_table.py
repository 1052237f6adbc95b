"""Segment tables: the user-facing forms and the flat arrays the algorithms work on.

Three forms reach the segment tools (see :func:`to_arrays`):

* the original list of dicts ``{"startTime", "endTime", "segment"}`` (or ``start``, ``end``,
  ``label``), one stream, times in seconds or datetimes;
* a :class:`pandas.DataFrame` with columns ``start``, ``end``, ``label`` and an optional
  ``stream`` column (one stream per distinct value, in order of first appearance);
* a list of streams, each a list of dicts or a DataFrame.

Internally every form becomes a :class:`SegmentArrays`: float seconds (relative to the
earliest start for datetimes), integer class codes and a stream id, streams contiguous.
The algorithms are vectorised over those arrays, so the Python-level cost is only the
conversion at the boundary.
"""

import datetime as _dt
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
import pandas as pd

__all__ = ["TOLERANCE", "SegmentArrays", "from_arrays", "join_runs", "stream_edges", "to_arrays"]

_KEYSETS = (("startTime", "endTime", "segment"), ("start", "end", "label"))
_MAX_SHOWN = 5
# float rounding of boundaries (seconds): below this, a gap or an overlap is snapped
TOLERANCE = 1e-6


@dataclass
class SegmentArrays:
    """Flat, validated segments of one or many streams (streams contiguous, each sorted)."""

    start: np.ndarray  # float64 seconds
    end: np.ndarray
    code: np.ndarray  # intp index into ``classes``
    stream: np.ndarray  # intp, non-decreasing
    classes: np.ndarray
    n_streams: int
    form: dict = field(default_factory=dict)  # how to rebuild the user's form

    def __len__(self):
        return len(self.start)

    def replace(self, start, end, code, stream):
        return SegmentArrays(start, end, code, stream, self.classes, self.n_streams, self.form)


def stream_edges(stream):
    """Boolean masks of the first and the last segment of each stream."""
    n = len(stream)
    change = stream[1:] != stream[:-1]
    first = np.empty(n, dtype=bool)
    last = np.empty(n, dtype=bool)
    if n:
        first[0] = True
        first[1:] = change
        last[-1] = True
        last[:-1] = change
    return first, last


def join_runs(start, end, code, stream):
    """Join consecutive, touching segments of the same class and stream (vectorised).

    Segments separated by a gap are never joined, so gaps survive.
    """
    n = len(start)
    if n == 0:
        return start, end, code, stream
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(code[1:], code[:-1], out=new[1:])
    new[1:] |= stream[1:] != stream[:-1]
    new[1:] |= start[1:] != end[:-1]
    first = np.flatnonzero(new)
    if len(first) == n:
        return start, end, code, stream
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = n - 1
    return start[first], end[last], code[first], stream[first]


# --------------------------------------------------------------------------- parsing


def _is_frame(X):
    return isinstance(X, pd.DataFrame)


def _time_values(values, what, caller):
    """Times as float seconds (relative later) plus how to rebuild them.

    Returns ``(kind, array, info)`` where kind is "seconds" (float64) or "datetime"
    (int64 nanoseconds since the epoch, UTC).
    """
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            tz = getattr(dtype, "tz", None)
            idx = pd.DatetimeIndex(values)
            idx = idx.tz_convert("UTC") if tz is not None else idx
            ns = idx.as_unit("ns").asi8
            return "datetime", ns.copy(), {"tz": tz, "py": False}
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            return "seconds", values.to_numpy(dtype=np.float64, na_value=np.nan), {}
        values = values.tolist()
    first = next((v for v in values if v is not None), None)
    if isinstance(first, (int, float, np.integer, np.floating)) and not isinstance(first, bool):
        try:
            return "seconds", np.asarray(values, dtype=np.float64), {}
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{caller}: {what} times mix numbers and other values; use seconds "
                "(int/float) or datetimes throughout."
            ) from exc
    if isinstance(first, (_dt.datetime, np.datetime64, str)):
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(values))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{caller}: cannot read {what} times as datetimes ({exc}). Use seconds "
                "(int/float) or datetimes throughout."
            ) from exc
        tz = idx.tz
        ns = (idx.tz_convert("UTC") if tz is not None else idx).as_unit("ns").asi8
        py = isinstance(first, _dt.datetime) and not isinstance(first, pd.Timestamp)
        return "datetime", ns.copy(), {"tz": tz, "py": py}
    raise TypeError(
        f"{caller}: {what} times must be seconds (int/float) or datetimes; got "
        f"{type(first).__name__} ({first!r})."
    )


def _parse_records(records, caller, where):
    if len(records) == 0:
        raise ValueError(f"{caller}: {where} has 0 segments; at least 1 is required.")
    keys = next((ks for ks in _KEYSETS if all(k in records[0] for k in ks)), None)
    if keys is None:
        raise ValueError(
            f"{caller}: {where} row 0 has keys {sorted(records[0])}; expected "
            "'startTime', 'endTime', 'segment' (the original form) or 'start', 'end', 'label'."
        )
    ks, ke, kl = keys
    try:
        # C-level passes over the rows (faster than comprehensions)
        start = list(map(itemgetter(ks), records))
        end = list(map(itemgetter(ke), records))
        label = list(map(itemgetter(kl), records))
    except (KeyError, TypeError) as exc:
        bad = next(
            i for i, r in enumerate(records)
            if not isinstance(r, dict) or not all(k in r for k in keys)
        )
        raise ValueError(
            f"{caller}: {where} row {bad} is {records[bad]!r}; every row needs the keys "
            f"{list(keys)} like row 0."
        ) from exc
    return start, end, label, {"kind": "records", "keys": keys}


def _parse_frame(df, caller, where, allow_stream=True):
    cols = next((ks for ks in _KEYSETS[::-1] if all(k in df.columns for k in ks)), None)
    if cols is None:
        raise ValueError(
            f"{caller}: {where} has columns {list(df.columns)}; expected 'start', 'end', "
            "'label' (plus an optional 'stream' column)."
        )
    if len(df) == 0:
        raise ValueError(f"{caller}: {where} has 0 segments; at least 1 is required.")
    stream = df["stream"] if (allow_stream and "stream" in df.columns) else None
    info = {"kind": "frame", "keys": cols, "index": df.index, "stream_dtype": None}
    return df[cols[0]], df[cols[1]], df[cols[2]], stream, info


def to_arrays(X, *, caller, classes=None, tolerance=TOLERANCE):
    """Validate segments in any supported form and return :class:`SegmentArrays`.

    Parameters
    ----------
    X : list of dict, DataFrame or list of streams
        The segments (see the module docstring).

    caller : str
        Name used in error messages.

    classes : array-like, default=None
        Known classes (e.g. a fitted ``classes_``): labels outside it raise. None: the
        sorted distinct labels of ``X``.

    tolerance : float, default=1e-6
        Within a stream, a segment that starts less than ``tolerance`` seconds before or
        after the previous one ends is snapped to start exactly there (float rounding, e.g.
        ``start = end - duration``). Larger overlaps raise; larger gaps are kept.

    Returns
    -------
    seg : SegmentArrays
    """
    parts, form, stream_vals = _parse_input(X, caller)
    start, end, lens, tinfo = _concat_times(parts, caller)
    lab_codes, uniq = _factorize_labels([p[2] for p in parts])
    sid, order, stream_names = _stream_ids(form, stream_vals, lens, len(start))
    if order is not None:
        start, end, lab_codes, sid = start[order], end[order], lab_codes[order], sid[order]
    if (lab_codes < 0).any():
        bad = np.flatnonzero(lab_codes < 0)
        rows = bad if order is None else order[bad]
        raise ValueError(f"{caller}: {_name_rows(rows, form, lens)} have a missing label.")
    start = _snap(start, end, sid, tolerance)
    _validate(start, end, sid, caller, form, lens, order)
    classes, code = _encode_classes(lab_codes, uniq, classes, caller, form, lens, order)
    if stream_vals is not None:
        form["info"]["stream_dtype"] = stream_vals.dtype
    form.update(stream_names=stream_names, lens=lens, **tinfo)
    n_streams = len(parts) if form["kind"] == "streams" else (int(sid[-1]) + 1 if len(sid) else 0)
    return SegmentArrays(start, end, code, sid, classes, n_streams, form)


def _parse_input(X, caller):
    """Split the user's form into ``(start, end, label, info)`` parts, one per stream
    given separately (a DataFrame's ``stream`` column is returned apart)."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or isinstance(X, dict):
        raise TypeError(
            f"{caller} expects segments: a list of dicts (startTime, endTime, segment), a "
            f"DataFrame (start, end, label[, stream]) or a list of those; got {type(X).__name__}."
        )
    if _is_frame(X):
        s, e, lab, stream, info = _parse_frame(X, caller, "the DataFrame")
        return [(s, e, lab, info)], {"kind": "frame", "info": info}, stream
    items = X if isinstance(X, list) else list(X)
    if len(items) == 0:
        raise ValueError(f"{caller}: got 0 segments; at least 1 is required.")
    if isinstance(items[0], dict):
        s, e, lab, info = _parse_records(items, caller, "the segment list")
        return [(s, e, lab, info)], {"kind": "records", "info": info}, None
    if not all(_is_frame(x) or isinstance(x, (list, tuple)) for x in items):
        raise TypeError(
            f"{caller} expects a list of dicts (one stream) or a list of streams; the "
            f"first item is a {type(items[0]).__name__}."
        )
    parts = []
    for k, x in enumerate(items):
        if _is_frame(x):
            s, e, lab, _, info = _parse_frame(x, caller, f"stream {k}", allow_stream=False)
        else:
            s, e, lab, info = _parse_records(list(x), caller, f"stream {k}")
        parts.append((s, e, lab, info))
    return parts, {"kind": "streams", "infos": [p[3] for p in parts]}, None


def _concat_times(parts, caller):
    """Start and end seconds of all parts (datetimes relative to the earliest time)."""
    kinds, starts, ends, lens, tinfo = set(), [], [], [], {}
    for k, (s, e, _, _) in enumerate(parts):
        where = "the segments" if len(parts) == 1 else f"stream {k}"
        ks, sv, si = _time_values(s, f"{where} start", caller)
        ke, ev, ei = _time_values(e, f"{where} end", caller)
        kinds |= {ks, ke}
        tinfo = tinfo or si or ei
        starts.append(sv)
        ends.append(ev)
        lens.append(len(sv))
    if len(kinds) > 1:
        raise TypeError(
            f"{caller}: some times are seconds and some are datetimes; use one kind throughout."
        )
    kind = kinds.pop()
    start = np.concatenate(starts) if len(starts) > 1 else starts[0]
    end = np.concatenate(ends) if len(ends) > 1 else ends[0]
    origin = None
    if kind == "datetime":
        origin = int(min(start.min(), end.min()))
        start = (start - origin) / 1e9
        end = (end - origin) / 1e9
    info = {"time_kind": kind, "origin": origin, "tz": tinfo.get("tz"),
            "py": tinfo.get("py", False)}
    return start, end, lens, info


def _factorize_labels(labels):
    """Integer codes (-1 for a missing label) and the distinct labels, in order of appearance."""
    if len(labels) == 1:
        lab = labels[0]
        if not isinstance(lab, pd.Series):
            lab = np.asarray(lab, dtype=object)
    else:
        lab = np.concatenate([
            np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x, dtype=object)
            for x in labels
        ])
    codes, uniq = pd.factorize(lab, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(np.asarray(uniq, dtype=object))


def _stream_ids(form, stream_vals, lens, n):
    """Stream id per row (order of first appearance), the stable order grouping the
    streams (None when already grouped) and the stream names of a DataFrame."""
    if form["kind"] == "streams":
        return np.repeat(np.arange(len(lens), dtype=np.intp), lens), None, None
    if stream_vals is None:
        return np.zeros(n, dtype=np.intp), None, None
    codes, uniq = pd.factorize(stream_vals, sort=False, use_na_sentinel=False)
    sid = codes.astype(np.intp)
    if len(sid) > 1 and (sid[1:] < sid[:-1]).any():
        order = np.argsort(sid, kind="stable")
        return sid[order], order, uniq
    return sid, None, uniq


def _snap(start, end, sid, tolerance):
    """Start each segment exactly where the previous one of its stream ends when they
    differ by at most ``tolerance`` seconds (an overlap or a gap of float rounding)."""
    if len(start) < 2 or not tolerance > 0:
        return start
    diff = start[1:] - end[:-1]
    near = (np.abs(diff) <= tolerance) & (diff != 0) & (sid[1:] == sid[:-1])
    if not near.any():
        return start
    start = start.copy()
    start[1:][near] = end[:-1][near]
    return start


def _encode_classes(lab_codes, uniq, classes, caller, form, lens, order):
    """Class codes into ``classes`` (sorted distinct labels when None); unknown labels raise."""
    if classes is None:
        try:
            classes = np.array(sorted(uniq), dtype=object)
        except TypeError:  # labels of mixed, unorderable types: order of appearance
            classes = np.array(uniq, dtype=object)
    else:
        classes = np.asarray(classes)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    table = np.array([lookup.get(u, -1) for u in uniq], dtype=np.intp)
    code = table[lab_codes]
    if (table < 0).any():
        bad = np.flatnonzero(code < 0)
        rows = bad if order is None else order[bad]
        unknown = sorted({str(uniq[j]) for j in np.flatnonzero(table < 0)})
        raise ValueError(
            f"{caller}: {_name_rows(rows, form, lens)} have labels {unknown[:_MAX_SHOWN]} not "
            f"seen in fit (known classes: {list(classes)}). Fit on data that contains them."
        )
    return classes, code


def _name_rows(rows, form, lens):
    """Human names of row positions: DataFrame index labels, list positions, (stream, row)."""
    rows = np.asarray(rows)[:_MAX_SHOWN]
    if form["kind"] == "frame":
        idx = form["info"]["index"]
        names = [f"row {getattr(idx[r], 'item', lambda: idx[r])()!r}" for r in rows]
    elif form["kind"] == "streams":
        offs = np.cumsum([0] + list(lens))
        names = []
        for r in rows:
            k = int(np.searchsorted(offs, r, side="right") - 1)
            names.append(f"stream {k} row {int(r - offs[k])}")
    else:
        names = [f"row {int(r)}" for r in rows]
    return ", ".join(names)


def _validate(start, end, sid, caller, form, lens, pos):
    def rows(mask_idx):
        return mask_idx if pos is None else pos[mask_idx]

    bad = np.flatnonzero(~(np.isfinite(start) & np.isfinite(end)))
    if len(bad):
        raise ValueError(
            f"{caller}: {_name_rows(rows(bad), form, lens)} have a missing or infinite start "
            "or end time. Drop or fix those rows."
        )
    bad = np.flatnonzero(end <= start)
    if len(bad):
        detail = "; ".join(
            f"{n}: start={float(start[i])!r}, end={float(end[i])!r}"
            for n, i in zip(_name_rows(rows(bad), form, lens).split(", "), bad)
        )
        raise ValueError(
            f"{caller}: {len(bad)} segment(s) have zero or negative length (end <= start) "
            f"[{detail}]. Drop them or fix their times."
        )
    same = sid[1:] == sid[:-1]
    bad = np.flatnonzero(same & (start[1:] < start[:-1])) + 1
    if len(bad):
        raise ValueError(
            f"{caller}: segments are not sorted by start time within their stream at "
            f"{_name_rows(rows(bad), form, lens)} (each starts before the row above it). "
            "Sort each stream by start first (e.g. df.sort_values('start'))."
        )
    bad = np.flatnonzero(same & (start[1:] < end[:-1])) + 1
    if len(bad):
        detail = "; ".join(
            f"{n} starts at {float(start[i])!r} before the previous row ends at "
            f"{float(end[i - 1])!r}"
            for n, i in zip(_name_rows(rows(bad), form, lens).split(", "), bad)
        )
        raise ValueError(
            f"{caller}: overlapping segments within a stream [{detail}]. A stream is one "
            "label at a time: resolve the overlaps (or put overlapping tracks in separate "
            "streams)."
        )


# --------------------------------------------------------------------------- rebuilding


def _times_out(sec, form):
    if form["time_kind"] == "seconds":
        return sec
    ns = form["origin"] + np.rint(sec * 1e9).astype(np.int64)
    idx = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    if form["tz"] is not None:
        idx = idx.tz_localize("UTC").tz_convert(form["tz"])
    return idx


def _records_out(start, end, labels, keys, form):
    ks, ke, kl = keys
    if form["time_kind"] == "datetime":
        start = start.to_pydatetime() if form["py"] else list(start)
        end = end.to_pydatetime() if form["py"] else list(end)
    else:
        start, end = start.tolist(), end.tolist()
    return [{ks: a, ke: b, kl: c} for a, b, c in zip(start, end, labels.tolist())]


def _frame_out(start, end, labels, keys):
    ks, ke, kl = keys
    return pd.DataFrame({ks: start, ke: end, kl: labels})


def from_arrays(seg, start, end, code, stream):
    """Rebuild the user's form (see :func:`to_arrays`) from new arrays of ``seg``'s streams."""
    form = seg.form
    labels = seg.classes[code] if len(seg.classes) else np.array([], dtype=object)
    if labels.dtype.kind in "Uf" and form["kind"] != "frame":
        labels = labels.astype(object)
    t0 = _times_out(start, form)
    t1 = _times_out(end, form)
    kind = form["kind"]
    if kind == "records":
        return _records_out(t0, t1, labels, form["info"]["keys"], form)
    if kind == "frame":
        out = _frame_out(t0, t1, labels, form["info"]["keys"])
        if form["stream_names"] is not None:
            vals = np.asarray(form["stream_names"], dtype=object)[stream]
            col = pd.Series(vals)
            try:
                col = col.astype(form["info"]["stream_dtype"])
            except (TypeError, ValueError):  # keep object values if the dtype cannot hold them
                pass
            out.insert(0, "stream", col)
        return out
    bounds = np.searchsorted(stream, np.arange(seg.n_streams + 1))
    outs = []
    for k, info in enumerate(form["infos"]):
        a, b = bounds[k], bounds[k + 1]
        s_k = t0[a:b]
        e_k = t1[a:b]
        if info["kind"] == "records":
            outs.append(_records_out(s_k, e_k, labels[a:b], info["keys"], form))
        else:
            outs.append(_frame_out(s_k, e_k, labels[a:b], info["keys"]))
    return outs
