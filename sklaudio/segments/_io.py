"""Reading and writing segment tables: JSON, CSV/TSV, RTTM."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_rttm", "read_segments", "write_segments"]


def read_segments(path, *, format=None):
    """Read segments from JSON or CSV.

    JSON: a list of objects with ``startTime``/``endTime``/``segment`` (the original form,
    ISO datetimes are parsed) or ``start``/``end``/``label``; returned as a list of dicts.
    CSV: a header with ``start``, ``end``, ``label`` (and optionally ``stream``), comma or
    tab separated; a header-less file of ``start end label`` columns (pyAudioAnalysis'
    ``.segments``) is accepted too; returned as a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file.

    format : {"json", "csv"}, default=None
        None: from the extension (``.json``; anything else is CSV).

    Returns
    -------
    segments : list of dict or DataFrame
        Ready for the smoothers and metrics.

    See Also
    --------
    write_segments : The inverse.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklaudio.segments import read_segments, write_segments
    >>> path = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> write_segments([{"start": 0.0, "end": 1.5, "label": "speech"}], path)
    >>> read_segments(path)
       start  end   label
    0    0.0  1.5  speech
    """
    path = Path(path)
    fmt = format or ("json" if path.suffix.lower() == ".json" else "csv")
    if fmt == "json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, list):
            raise ValueError(
                f"{path}: expected a JSON list of segments; got {type(data).__name__}.")
        for row in data:
            for key in ("startTime", "endTime"):
                if isinstance(row, dict) and isinstance(row.get(key), str):
                    row[key] = pd.Timestamp(row[key]).to_pydatetime()
        return data
    if fmt != "csv":
        raise ValueError(f"format must be 'json' or 'csv'; got {format!r}.")
    with open(path, encoding="utf-8") as fh:
        head = fh.readline()
    sep = "\t" if "\t" in head else ","
    first = [c.strip() for c in head.split(sep)]
    if {"start", "end", "label"} <= set(first):
        df = pd.read_csv(path, sep=sep)
    else:
        # header-less "start end label" lines; real files carry stray trailing tabs
        rows = []
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                parts = [p for p in line.replace(",", " ").split() if p]
                if not parts:
                    continue
                if len(parts) < 3:
                    raise ValueError(
                        f"{path}:{n}: expected 'start end label'; got {line.strip()!r}")
                try:
                    rows.append((float(parts[0]), float(parts[1]), " ".join(parts[2:])))
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: start and end must be numbers; got "
                                     f"{line.strip()!r}") from exc
        df = pd.DataFrame(rows, columns=["start", "end", "label"])
    for col in ("start", "end"):
        if not pd.api.types.is_numeric_dtype(df[col]):
            df[col] = pd.to_datetime(df[col])
    return df


def write_segments(segments, path, *, format=None):
    """Write segments as JSON (list of dicts) or CSV (one row per segment).

    Parameters
    ----------
    segments : list of dict or DataFrame
        Segments in either form; datetimes are written in ISO 8601.

    path : str or path-like
        Destination; ``-`` writes to standard output.

    format : {"json", "csv"}, default=None
        None: from the extension (``.json``; anything else is CSV).

    See Also
    --------
    read_segments : The inverse.

    Examples
    --------
    >>> import sys
    >>> from sklaudio.segments import write_segments
    >>> write_segments([{"start": 0.0, "end": 1.5, "label": "speech"}], "-", format="json")
    [{"start": 0.0, "end": 1.5, "label": "speech"}]
    """
    import sys

    fmt = format or ("json" if str(path).lower().endswith(".json") else "csv")
    if isinstance(segments, pd.DataFrame):
        records = segments.to_dict(orient="records")
    else:
        records = list(segments)

    def plain(v):
        if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat"):
            return v.isoformat()
        if isinstance(v, np.generic):
            return v.item()
        return v

    if fmt == "json":
        text = json.dumps([{k: plain(v) for k, v in r.items()} for r in records])
    elif fmt == "csv":
        df = segments if isinstance(segments, pd.DataFrame) else pd.DataFrame(records)
        text = df.to_csv(index=False).rstrip("\n")
    else:
        raise ValueError(f"format must be 'json' or 'csv'; got {format!r}.")
    if str(path) == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(path).write_text(text + "\n", encoding="utf-8")


def read_rttm(path, *, uem=None):
    """Speech/non-speech streams from an RTTM file (speech = union of speaker turns).

    Parameters
    ----------
    path : str or path-like
        RTTM file: ``SPEAKER <uri> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>``.

    uem : str, path-like or dict, default=None
        Annotated span per uri (a ``.uem`` file: ``uri NA start end``, or a dict
        ``{uri: (start, end)}``). Streams are filled with ``non-speech`` to that span;
        uris in the UEM without turns become all non-speech. None: from 0 to the last
        turn's end.

    Returns
    -------
    segments : DataFrame
        Columns ``stream`` (uri), ``start``, ``end``, ``label`` (``speech`` or
        ``non-speech``), gap-free within each stream.

    See Also
    --------
    read_segments : JSON/CSV segment files.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklaudio.segments import read_rttm
    >>> p = os.path.join(tempfile.mkdtemp(), "a.rttm")
    >>> _ = open(p, "w").write("SPEAKER f 1 1.0 2.0 <NA> <NA> A <NA> <NA>\\n"
    ...                        "SPEAKER f 1 2.5 1.0 <NA> <NA> B <NA> <NA>\\n")
    >>> read_rttm(p, uem={"f": (0.0, 5.0)})
      stream  start  end       label
    0      f    0.0  1.0  non-speech
    1      f    1.0  3.5      speech
    2      f    3.5  5.0  non-speech
    """
    turns = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0] != "SPEAKER":
                continue
            try:
                uri, on, dur = parts[1], float(parts[3]), float(parts[4])
            except (IndexError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: not an RTTM SPEAKER line: {line.strip()!r}") from exc
            turns.setdefault(uri, []).append((on, on + dur))
    spans = {}
    if isinstance(uem, dict):
        spans = {k: tuple(map(float, v)) for k, v in uem.items()}
    elif uem is not None:
        with open(uem, encoding="utf-8") as fh:
            for line in fh:
                p = line.split()
                if len(p) >= 4:
                    spans[p[0]] = (float(p[2]), float(p[3]))
    rows = []
    for uri in list(turns) + [u for u in spans if u not in turns]:
        iv = sorted(turns.get(uri, []))
        lo, hi = spans.get(uri, (0.0, max((e for _, e in iv), default=0.0)))
        merged = []
        for s, e in iv:  # union of turns (speakers overlap)
            s, e = max(s, lo), min(e, hi)
            if e <= s:
                continue
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        t = lo
        for s, e in merged:
            if s > t:
                rows.append((uri, t, s, "non-speech"))
            rows.append((uri, s, e, "speech"))
            t = e
        if hi > t:
            rows.append((uri, t, hi, "non-speech"))
    return pd.DataFrame(rows, columns=["stream", "start", "end", "label"])
