"""Fixed-length windows from long recordings, with their recording, start time and speaker."""

import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from sklaudio.exceptions import AudioWarning, ParameterError
from sklaudio.preprocessing._trim import frame_db
from sklaudio.utils._audio import check_clips, resolve_sr, wrap_clips
from sklaudio.utils._compat import HasMethods, Interval, validate_params

__all__ = ["make_windows"]


def _load_paths(paths, sr):
    from sklaudio.io import load_audio

    if sr is None:
        raise ParameterError(
            "make_windows got file paths but sr=None: pass the rate to load them at, "
            "e.g. sr=16000."
        )
    return [load_audio(p, sr=sr)[0] for p in paths], [str(p) for p in paths]


@validate_params(
    {
        "recordings": ["array-like"],
        "length": [Interval(Real, 0, None, closed="neither")],
        "hop": [Interval(Real, 0, None, closed="neither"), None],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "speakers": ["array-like", None],
        "names": ["array-like", None],
        "min_speech": [Interval(Real, 0, 1, closed="both")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "drop_head": [Interval(Real, 0, None, closed="left")],
        "drop_tail": [Interval(Real, 0, None, closed="left")],
        "trimmer": [HasMethods(["fit_transform"]), None],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(recordings, *, length, hop=None, sr=None, speakers=None, names=None,
                 min_speech=0.5, top_db=40.0, frame_length=512, hop_length=160,
                 drop_head=0.0, drop_tail=0.0, trimmer=None):
    """Cut recordings into fixed-length windows and say where each window comes from.

    Each recording goes through these steps, in order:

    1. drop ``drop_head`` seconds at its start and ``drop_tail`` seconds at its end;
    2. with ``trimmer`` (a :class:`~sklaudio.preprocessing.Trimmer`, e.g.
       ``Trimmer(min_silence=0.3)`` to shorten pauses as pydub's ``split_on_silence``
       and a join would): remove silences;
    3. cut windows of ``length`` seconds every ``hop`` seconds (the incomplete end is
       dropped);
    4. keep the windows whose speech fraction, the share of their frames within
       ``top_db`` dB of the recording's loudest frame (the Trimmer's frame energy), is
       at least ``min_speech``.

    Parameters
    ----------
    recordings : sequence of 1-D arrays, ClipArray or sequence of paths
        The recordings. Paths are loaded with :func:`sklaudio.io.load_audio` at ``sr``.

    length : float
        Window length in seconds.

    hop : float or None, default=None
        Seconds between window starts; None means ``length`` (no overlap).

    sr : float or None, default=None
        Sampling rate: needed for paths; for clips None follows the rate a
        :class:`~sklaudio.utils.ClipArray` carries (else librosa's 22050).

    speakers : array-like of shape (n_recordings,) or None, default=None
        Speaker of each recording, copied to every window (the ``groups`` of a
        speaker-disjoint split). None leaves the column empty.

    names : array-like of shape (n_recordings,) or None, default=None
        Name of each recording; default the paths, or ``"0"``, ``"1"``, ... for clips.

    min_speech : float in [0, 1], default=0.5
        Smallest speech fraction a window needs to be kept. 0 keeps every window.

    top_db : float, default=40.0
        A frame is speech when its RMS level is within ``top_db`` dB of the
        recording's loudest frame.

    frame_length : int, default=512
        Samples per energy frame.

    hop_length : int, default=160
        Samples between energy frames.

    drop_head : float, default=0.0
        Seconds dropped at the start of each recording.

    drop_tail : float, default=0.0
        Seconds dropped at the end of each recording.

    trimmer : Trimmer or None, default=None
        Silence removal applied to each recording after the head/tail drop. Its
        output is a shorter recording, so ``start_s`` then counts time in it, not in
        the original file (the ``trimmed`` column says so).

    Returns
    -------
    table : pandas.DataFrame
        One row per window, in recording order then time order: ``recording``
        (name), ``speaker``, ``start_s`` (seconds from the original start, or in the
        trimmed recording when ``trimmed`` is True), ``end_s``, ``speech_fraction``,
        ``trimmed``.

    windows : ClipArray of shape (n_windows, round(length * sr))
        The windows' samples, carrying ``sr``, aligned with ``table``.

    Raises
    ------
    ValueError
        When no recording is long enough for one window, or when ``speakers`` or
        ``names`` do not have one entry per recording.

    Warns
    -----
    AudioWarning
        Naming the recordings shorter than one window (after the head/tail drop and
        trimming), which give no window, and those whose every window has too
        little speech.

    See Also
    --------
    sklaudio.preprocessing.Trimmer : Silence removal and head/tail drop of clips.
    make_pairs : Same- and different-speaker pairs of the windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.speakers import make_windows
    >>> sr = 8000
    >>> rng = np.random.default_rng(0)
    >>> speech = rng.standard_normal(5 * sr) * 0.1
    >>> speech[2 * sr : 3 * sr] = 0.0                       # one silent second
    >>> table, windows = make_windows([speech], length=1.0, sr=sr, speakers=["ann"])
    >>> table[["speaker", "start_s", "end_s"]].values.tolist()
    [['ann', 0.0, 1.0], ['ann', 1.0, 2.0], ['ann', 3.0, 4.0], ['ann', 4.0, 5.0]]
    >>> windows.shape, windows.sr
    ((4, 8000), 8000)
    """
    clips, names, spk, sr_used = _recordings(recordings, sr, speakers, names)
    win = int(round(length * sr_used))
    step = win if hop is None else int(round(hop * sr_used))
    if step < 1:
        raise ParameterError(f"make_windows(hop={hop}) is less than one sample at sr={sr_used}.")
    head, tail = int(round(drop_head * sr_used)), int(round(drop_tail * sr_used))

    rows, out, short, quiet = [], [], [], []
    for name, speaker, y in zip(names, spk, clips):
        y = np.asarray(y)[head : max(head, len(y) - tail)]
        trimmed = trimmer is not None
        if trimmed and len(y):
            y = np.asarray(trimmer.fit_transform(wrap_clips([y], sr_used))[0])
        if len(y) < win:
            short.append((name, len(y) / sr_used))
            continue
        kept = _speech_windows(y, win, step, min_speech, top_db, frame_length, hop_length)
        if not kept:
            quiet.append(name)
        offset = 0.0 if trimmed else drop_head
        for s, frac in kept:
            rows.append(dict(recording=name, speaker=speaker,
                             start_s=offset + s / sr_used, end_s=offset + (s + win) / sr_used,
                             speech_fraction=frac, trimmed=trimmed))
            out.append(y[s : s + win])
    _warn_skipped(short, quiet, length, min_speech)
    if not rows:
        raise ValueError(
            f"make_windows made no window of length={length} s from {len(clips)} "
            "recording(s) (all too short or too quiet); use a shorter length or a lower "
            "min_speech."
        )
    table = pd.DataFrame(rows, columns=["recording", "speaker", "start_s", "end_s",
                                        "speech_fraction", "trimmed"])
    return table, wrap_clips(np.stack(out), sr_used, as_matrix=True)


def _recordings(recordings, sr, speakers, names):
    """``(clips, names, speakers, sr)`` of make_windows' input, one entry per recording."""
    items = list(recordings)
    if items and all(isinstance(x, (str, bytes, os.PathLike)) for x in items):
        clips, default_names = _load_paths(items, sr)
        sr_used = sr
    else:
        clips, _ = check_clips(recordings, caller="make_windows")
        clips = list(clips)
        sr_used = resolve_sr(sr, recordings, caller="make_windows")
        default_names = [str(i) for i in range(len(clips))]
    n = len(clips)
    names = default_names if names is None else [str(x) for x in np.asarray(names, dtype=object)]
    spk = [None] * n if speakers is None else list(np.asarray(speakers, dtype=object))
    for what, values in (("speakers", spk), ("names", names)):
        if len(values) != n:
            raise ValueError(
                f"make_windows got {n} recordings but {len(values)} {what}; pass one "
                f"entry per recording."
            )
    return clips, names, spk, sr_used


def _speech_windows(y, win, step, min_speech, top_db, frame_length, hop_length):
    """``(start sample, speech fraction)`` of each window of ``y`` with enough speech."""
    loud = frame_db(y, frame_length=frame_length, hop_length=hop_length) > -top_db
    kept = []
    for s in range(0, len(y) - win + 1, step):
        # frames centred inside the window (frame i is centred at i * hop_length)
        f0, f1 = -(-s // hop_length), (s + win - 1) // hop_length + 1
        frac = float(loud[f0:f1].mean()) if f1 > f0 else 0.0
        if frac >= min_speech:
            kept.append((s, frac))
    return kept


def _warn_skipped(short, quiet, length, min_speech):
    """Name the recordings too short for a window and those with too little speech."""
    # stacklevel 4: this helper, make_windows, its parameter validation, the caller
    if short:
        listed = ", ".join(f"{nm!r} ({d:.2f} s)" for nm, d in short[:10])
        warnings.warn(
            f"make_windows skipped {len(short)} recording(s) shorter than one {length} s "
            f"window after dropping head/tail and trimming: {listed}"
            f"{' ...' if len(short) > 10 else ''}. Use a shorter length to keep them.",
            AudioWarning, stacklevel=4,
        )
    if quiet:
        warnings.warn(
            f"make_windows kept no window of {len(quiet)} recording(s) (every window had "
            f"a speech fraction below min_speech={min_speech}): {quiet[:10]}"
            f"{' ...' if len(quiet) > 10 else ''}. Lower min_speech or top_db.",
            AudioWarning, stacklevel=4,
        )
