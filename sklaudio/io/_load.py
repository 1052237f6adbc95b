"""Read audio files into float arrays: :func:`load_audio`, :func:`load_audio_batch`,
:class:`AudioLoader`.

Decoding goes through soundfile (libsndfile: WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF, ...),
resampling through :func:`librosa.resample`, with librosa's parameter names and defaults.
"""

import os
import re
import warnings
from numbers import Integral, Real

import librosa
import numpy as np
import soundfile as sf
from sklearn.base import BaseEstimator

from sklaudio.exceptions import AudioLoadError, AudioWarning, ParameterError
from sklaudio.utils._audio import (
    AudioTransformerMixin,
    ClipArray,
    carried_sr,
    check_clips,
    check_finite,
    check_sr,
    map_clips,
    wrap_clips,
)
from sklaudio.utils._compat import Interval, Options, StrOptions, _fit_context
from sklaudio.utils._docstring import Substitution, _entry
from sklaudio.utils._stream import is_streamed

__all__ = ["SUPPORTED_EXTENSIONS", "AudioLoader", "load_audio", "load_audio_batch"]

#: File extensions sklaudio reads (lower case). Files with other extensions are still
#: tried, since libsndfile recognises most formats by their header.
SUPPORTED_EXTENSIONS = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au",
    ".w64", ".rf64", ".caf",
)

# Formats where libsndfile 1.2 (mpg123) can return other samples after a seek, or on a
# read that continues an earlier one, than a single read from the start gives (seen on
# MP3 files written by libsndfile itself): read from the start in one call and drop
# the head instead.
_INEXACT_SEEK_FORMATS = {"MP3"}
# Formats whose header frame count is an estimate (libsndfile's MP3 count is off by a
# few hundred samples either way): a short read there is no sign of truncation.
_INEXACT_LENGTH_FORMATS = {"MP3"}

_FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}

_ON_TRUNCATED = ("error", "warn")

# AudioLoader(stream="auto") streams files longer than this (seconds of the part read).
# Whole in memory, one second of audio costs the age/gender pipeline about 2 MB at its
# peak (7.5 GB for an hour), so two minutes stay near 250 MB; streaming gives the same
# features (to float rounding), so the threshold only trades speed for memory.
_STREAM_AUTO_S = 120.0

# libsndfile's header report names a chunk whose size disagrees with the file:
# "data : 450000 (should be 29956)" for a WAV cut short on disk
_CHUNK_MISMATCH = re.compile(r"^\s*(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)
# sizes that streaming writers put in a header they cannot go back to fill in
_UNKNOWN_SIZES = {0, 0xFFFFFFFF, 0xFFFFFFFF - 1}


# parameter entries shared by load_audio, load_audio_batch and AudioLoader
_DOCS = {
    "res_type": _entry("""
res_type : str, default="soxr_hq"
    Resampling method, passed to :func:`librosa.resample`.
"""),
    "on_truncated": _entry("""
on_truncated : {"error", "warn"}, default="error"
    What to do with a file cut short on disk (its header promises more samples
    than it holds, as libsndfile reports): raise an :class:`AudioLoadError` naming
    the file, or load the samples present with an
    :class:`~sklaudio.exceptions.AudioWarning`.
"""),
    "offset_duration": _entry("""
offset : float, default=0.0
    Seconds skipped at the start of each file.

duration : float or None, default=None
    Seconds read from each file; None reads to the end.
"""),
}


def _check_on_truncated(on_truncated):
    if on_truncated not in _ON_TRUNCATED:
        raise ParameterError(
            f"on_truncated={on_truncated!r} is not valid; use 'error' (the default: raise "
            "AudioLoadError) or 'warn' (load the samples present, with an AudioWarning)."
        )
    return on_truncated


def _truncation(f):
    """(promised, present) sample counts when the header promises more than the file
    holds, else None."""
    try:
        info = f.extra_info
    except (RuntimeError, sf.SoundFileError):  # pragma: no cover - info is optional
        return None
    for _, said, real in _CHUNK_MISMATCH.findall(info):
        said, real = int(said), int(real)
        if said > real and said not in _UNKNOWN_SIZES and real > 0:
            promised = int(round(f.frames * said / real))
            return promised, f.frames
    return None


def _truncated(path, promised, present, sr_native, on_truncated):
    msg = (
        f"{path!r} is truncated: its header promises {promised} samples "
        f"({promised / sr_native:.2f} s) but the file holds only {present} "
        f"({present / sr_native:.2f} s); it was probably cut short while being copied or "
        "written."
    )
    if on_truncated == "error":
        raise AudioLoadError(
            msg + " Re-copy or re-encode it, or pass on_truncated='warn' to use the "
            "samples present."
        )
    warnings.warn(msg + " Using the samples present.", AudioWarning, stacklevel=4)


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ParameterError(
            f"dtype={dtype!r} is not a dtype; use np.float32 (the default) or np.float64."
        ) from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ParameterError(
            f"dtype={dtype!r} is not supported: audio is returned as floats in [-1, 1]; "
            "use np.float32 (the default) or np.float64."
        )
    return dt


def _check_seconds(value, name, *, allow_none, strictly_positive):
    if value is None and allow_none:
        return None
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > 0 if strictly_positive else value >= 0)
    if not ok:
        need = "a positive number of seconds" if strictly_positive else "a number of seconds >= 0"
        extra = " or None (read to the end)" if allow_none else ""
        raise ParameterError(f"{name}={value!r} is not valid: expected {need}{extra}.")
    return float(value)


def _check_target_sr(sr):
    return check_sr(sr, "sr", none_means="keep each file's own rate")


def _seconds_to_frames(seconds, sr_native):
    # floor like librosa, but forgiving float error (0.29 * 100 must give 29, not 28)
    return int(np.floor(seconds * sr_native + 1e-6))


def _as_path(path):
    """Return ``path`` as a str, or raise a TypeError that says what arrived."""
    if isinstance(path, bytes):
        return os.fsdecode(path)
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    if isinstance(path, float) and np.isnan(path):
        raise TypeError("got NaN (a missing value) instead of a file path.")
    if path is None:
        raise TypeError("got None (a missing value) instead of a file path.")
    raise TypeError(
        f"expected a file path (str or os.PathLike); got {type(path).__name__}"
        + (f" of shape {np.shape(path)}" if hasattr(path, "shape") else f" {path!r}"[:80])
        + ". In-memory clips do not need loading: pass them to the next step directly."
    )


def _ext(path):
    return os.path.splitext(path)[1].lower()


def _missing_file_error(path):
    shown = os.path.abspath(path)
    folder = os.path.dirname(shown)
    if not _ext(path):
        hint = (
            "It has no file extension: is it a file path at all (for instance text from "
            "the wrong manifest column)? Pass paths to audio files such as 'clip.wav'."
        )
    elif os.path.isdir(folder):
        hint = f"The folder {folder!r} exists but holds no such file: check the file name."
    else:
        hint = (
            f"Neither the file nor its folder exists. Relative paths are resolved against "
            f"the current directory ({os.getcwd()!r}); pass an absolute path, or read the "
            "manifest with sklaudio.io.read_manifest, which resolves paths against its folder."
        )
    return AudioLoadError(f"Audio file not found: {path!r}. {hint}")


def _open(path):
    """Open ``path`` with soundfile, turning every failure into an AudioLoadError."""
    if not os.path.exists(path):
        raise _missing_file_error(path)
    if os.path.isdir(path):
        raise AudioLoadError(
            f"{path!r} is a folder, not an audio file. To load every file in it, read it "
            "first with sklaudio.io.read_folder or read_dataset and load Manifest.paths."
        )
    if not os.access(path, os.R_OK):
        raise AudioLoadError(
            f"Cannot read {path!r}: permission denied. Make the file readable (chmod) or "
            "copy it somewhere you can read."
        )
    try:
        return sf.SoundFile(path)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        detail = getattr(exc, "error_string", None) or str(exc)
        ext = _ext(path)
        if os.path.getsize(path) == 0:
            raise AudioLoadError(
                f"Cannot read {path!r}: the file is empty (0 bytes). Re-create or re-download "
                "it, or remove it from your list of files."
            ) from exc
        if ext not in SUPPORTED_EXTENSIONS:
            raise AudioLoadError(
                f"Cannot read {path!r}: {ext or 'a file without extension'!s} is not a "
                f"supported audio format ({detail}). Supported extensions: "
                f"{', '.join(SUPPORTED_EXTENSIONS)}. Convert the file (e.g. with ffmpeg) "
                "to WAV or FLAC."
            ) from exc
        raise AudioLoadError(
            f"Cannot decode {path!r}: libsndfile says {detail!r}. The file is corrupt, "
            f"truncated, or not really {ext[1:].upper()} despite its extension. Check it "
            "with `soundfile.info(path)` or re-encode it (e.g. with ffmpeg)."
        ) from exc


def _check_not_empty(path, n_total):
    if n_total == 0:
        raise AudioLoadError(
            f"{path!r} holds no audio (0 samples; header only). Remove it from your list "
            "of files."
        )


def _start_frame(path, offset, sr_native, n_total):
    """The first frame read for ``offset`` seconds, or an error past the end."""
    start = _seconds_to_frames(offset, sr_native) if offset else 0
    if start >= n_total:
        raise AudioLoadError(
            f"offset={offset} s is at or beyond the end of {path!r}, which lasts "
            f"{n_total / sr_native:.3f} s ({n_total} samples at {sr_native} Hz). Use a "
            "smaller offset."
        )
    return start


def _read(path, *, offset, duration, dtype, on_truncated="error"):
    """Decode ``[offset, offset + duration)`` of ``path``: (y channels-first or 1-D, sr_native)."""
    with _open(path) as f:
        sr_native = f.samplerate
        n_total = f.frames
        _check_not_empty(path, n_total)
        exact_length = f.format not in _INEXACT_LENGTH_FORMATS
        cut = _truncation(f)
        if cut is not None:
            _truncated(path, *cut, sr_native, on_truncated)
        start = _start_frame(path, offset, sr_native, n_total)
        frames = -1 if duration is None else max(1, _seconds_to_frames(duration, sr_native))
        try:
            if start and f.format in _INEXACT_SEEK_FORMATS:
                # one read from the start, then drop the head (see _INEXACT_SEEK_FORMATS)
                y = f.read(frames=-1 if frames < 0 else start + frames, dtype=dtype,
                           always_2d=False)[start:]
            else:
                if start:
                    f.seek(start)
                y = f.read(frames=frames, dtype=dtype, always_2d=False)
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AudioLoadError(
                f"Cannot decode {path!r} (offset={offset}, duration={duration}): {exc}. "
                "The file is probably truncated or corrupt; re-encode it."
            ) from exc
    if y.shape[0] == 0:
        raise AudioLoadError(
            f"Reading {path!r} gave 0 samples (header says {n_total}): the file is "
            "truncated or corrupt. Re-encode it."
        )
    expected = n_total - start if frames < 0 else min(frames, n_total - start)
    if cut is None and exact_length and y.shape[0] < expected:
        # the header's count held, but the decoder ran out of data before it
        _truncated(path, n_total, start + y.shape[0], sr_native, on_truncated)
    return y.T, sr_native


def _check_finite(y, path):
    # channels first (n_channels, n_samples) when the file has several
    check_finite(y, subject=repr(path), channels=True, error=AudioLoadError,
                 hint="(a float file with invalid samples). Fix the file, or load it with "
                      "soundfile and clean it with np.nan_to_num.")


def _load(path, sr, mono, offset, duration, dtype, res_type, on_truncated="error"):
    """load_audio without parameter validation; ``path`` is already a str."""
    y, sr_native = _read(path, offset=offset, duration=duration, dtype=dtype,
                         on_truncated=on_truncated)
    _check_finite(y, path)
    if mono and y.ndim == 2:
        y = np.mean(y, axis=0, dtype=y.dtype)  # librosa.to_mono: mean of the channels
    if sr is not None and sr != sr_native:
        try:
            y = librosa.resample(y, orig_sr=sr_native, target_sr=sr, res_type=res_type)
        except librosa.util.exceptions.ParameterError as exc:
            raise ParameterError(f"Cannot resample {path!r} to sr={sr}: {exc}") from exc
        if y.shape[-1] == 0:
            raise AudioLoadError(
                f"{path!r} is too short to resample from {sr_native} Hz to {sr} Hz (0 samples "
                "left). Drop it, or load a longer part of it."
            )
    else:
        sr = sr_native
    return np.ascontiguousarray(y, dtype=dtype), sr


@Substitution(res_type=_DOCS["res_type"], on_truncated=_DOCS["on_truncated"])
def load_audio(path, *, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32,
               res_type="soxr_hq", on_truncated="error"):
    """Load an audio file as a float array, like :func:`librosa.load`.

    The file is decoded with soundfile (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF and the
    other formats of libsndfile) and resampled with :func:`librosa.resample`. Integer
    PCM becomes float in [-1, 1]. Only the requested part of the file is read.

    Parameters
    ----------
    path : str or os.PathLike
        Path of the audio file. Non-ASCII names work.

    sr : number > 0 or None, default=22050
        Target sampling rate in Hz. None keeps the file's own rate.

    mono : bool, default=True
        Mix multi-channel audio down to mono (mean of the channels).

    offset : float, default=0.0
        Start reading this many seconds into the file.

    duration : float or None, default=None
        Read at most this many seconds. None reads to the end.

    dtype : {np.float32, np.float64}, default=np.float32
        Data type of the returned samples.

    {res_type}

    {on_truncated}

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_channels, n_samples)
        The samples, channels first when ``mono=False`` and the file has more than one
        channel (librosa's layout).

    sr : int or float
        Sampling rate of ``y``.

    Raises
    ------
    AudioLoadError
        Naming the file, when it is missing, a folder, empty, corrupt, truncated (with
        ``on_truncated="error"``), of an unsupported format, when ``offset`` is beyond
        its end, or when it holds NaN/inf samples.
    TypeError
        When ``path`` is not a path.

    See Also
    --------
    load_audio_batch : Load many files, in parallel, as a ClipArray.
    AudioLoader : The same as a pipeline step.
    librosa.load : The reference this function follows.

    Notes
    -----
    ``offset`` and ``duration`` are turned into samples by flooring, as librosa does.
    For MP3 files the part up to ``offset + duration`` is decoded from the start in
    one read and the head dropped, because libsndfile's MP3 seek can return other
    samples than a full decode (``librosa.load`` seeks, and differs there); other
    formats seek directly.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklaudio.io import load_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> pcm = (10000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)
    >>> sf.write(path, pcm, 8000)
    >>> y, sr = load_audio(path, sr=None)
    >>> y.dtype, sr, y.shape, bool(np.allclose(y, pcm / 32768))
    (dtype('float32'), 8000, (8000,), True)
    >>> y, sr = load_audio(path, sr=16000, offset=0.5, duration=0.25)
    >>> sr, y.shape
    (16000, (4000,))
    """
    try:
        path = _as_path(path)
    except TypeError as exc:
        raise TypeError(f"load_audio {exc}") from None
    sr = _check_target_sr(sr)
    offset = _check_seconds(offset, "offset", allow_none=False, strictly_positive=False)
    duration = _check_seconds(duration, "duration", allow_none=True, strictly_positive=True)
    dtype = _check_dtype(dtype)
    on_truncated = _check_on_truncated(on_truncated)
    return _load(path, sr, bool(mono), offset, duration, dtype, res_type, on_truncated)


def _load_one(path, **kwargs):
    # module level so that joblib can send it to worker processes
    return _load(path, **kwargs)


def _as_path_list(paths, caller):
    """Turn a 1-D sequence of paths (list, array, Series, one-column frame) into a list of str."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{caller} got a single path {os.fspath(paths)!r}; it expects a list of paths. "
            "Wrap it in a list: [path]."
        )
    if hasattr(paths, "columns") and hasattr(paths, "iloc"):  # DataFrame
        if paths.shape[1] != 1:
            raise ValueError(
                f"{caller} got a DataFrame with {paths.shape[1]} columns "
                f"{list(paths.columns)[:10]}; it expects one column of file paths. Select it "
                "(df['path']) or use a ColumnTransformer on the path column."
            )
        paths = paths.iloc[:, 0]
    if hasattr(paths, "to_numpy"):  # Series (pandas/polars)
        paths = paths.to_numpy()
    if not hasattr(paths, "__len__") or isinstance(paths, dict):
        raise TypeError(
            f"{caller} expects a list of file paths; got {type(paths).__name__}."
        )
    if isinstance(paths, np.ndarray):
        if paths.ndim == 2 and paths.shape[1] == 1:  # sklearn column selection gives (n, 1)
            paths = paths[:, 0]
        if paths.ndim != 1:
            raise ValueError(
                f"{caller} expects a 1-D list of file paths (or one column of shape (n, 1)); "
                f"got an array of shape {paths.shape} and dtype {paths.dtype}."
                + (" Audio already in memory does not need loading: pass it to the next "
                   "step directly." if paths.dtype.kind in "fiu" else "")
            )
    paths = list(paths)
    if len(paths) == 0:
        raise ValueError(
            f"{caller} got 0 file paths; at least 1 is required. Check the manifest or "
            "the filter that selected the files."
        )
    out = []
    for i, p in enumerate(paths):
        try:
            out.append(_as_path(p))
        except TypeError as exc:
            raise TypeError(f"{caller}: item {i} of the paths {exc}") from None
    return out


def _check_same_rate(paths, rates, caller):
    first = rates[0]
    for path, rate in zip(paths, rates):
        if rate != first:
            raise ParameterError(
                f"{caller}(sr=None) keeps each file's own sampling rate, but the files "
                f"differ: {paths[0]!r} is at {first} Hz and {path!r} at {rate} Hz. Set sr "
                f"to a common rate (e.g. sr={max(first, rate)}) to resample them all."
            )
    return first


@Substitution(**_DOCS)
def load_audio_batch(paths, *, sr=22050, mono=True, offset=0.0, duration=None,
                     n_jobs=None, verbose=0, dtype=np.float32, res_type="soxr_hq",
                     on_truncated="error"):
    """Load many audio files as a :class:`~sklaudio.utils.ClipArray`, keeping their order.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Files to load, for instance ``Manifest.paths``.

    sr : number > 0 or None, default=22050
        Target sampling rate in Hz. None keeps the files' own rate, which must then be
        the same for every file.

    mono : bool, default=True
        Mix multi-channel files down to mono.

    {offset_duration}

    n_jobs : int or None, default=None
        Number of parallel jobs (joblib's meaning: -1 uses all cores).

    verbose : int, default=0
        Print a progress bar to stderr when > 0.

    dtype : {np.float32, np.float64}, default=np.float32
        Data type of the samples.

    {res_type}

    {on_truncated}

    Returns
    -------
    clips : ClipArray of shape (n_files,)
        A 1-D object array of clips (one per path, in order; channels first when
        ``mono=False`` and a file has several channels), carrying ``sr``.

    Raises
    ------
    AudioLoadError
        For the first file that cannot be read, naming it.
    ParameterError
        With ``sr=None``, when two files have different rates (both are named).

    See Also
    --------
    load_audio : Load one file.
    AudioLoader : The same as a pipeline step.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklaudio.io import load_audio_batch
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{n}.wav") for n in (800, 1600)]
    >>> for p, n in zip(paths, (800, 1600)):
    ...     sf.write(p, np.zeros(n), 8000)
    >>> X = load_audio_batch(paths, sr=16000)
    >>> X.sr, [len(x) for x in X]
    (16000, [1600, 3200])
    """
    paths = _as_path_list(paths, "load_audio_batch")
    sr = _check_target_sr(sr)
    offset = _check_seconds(offset, "offset", allow_none=False, strictly_positive=False)
    duration = _check_seconds(duration, "duration", allow_none=True, strictly_positive=True)
    dtype = _check_dtype(dtype)
    on_truncated = _check_on_truncated(on_truncated)
    return _load_batch(paths, sr=sr, mono=bool(mono), offset=offset, duration=duration,
                       dtype=dtype, res_type=res_type, n_jobs=n_jobs, verbose=verbose,
                       caller="load_audio_batch", on_truncated=on_truncated)


def _streams(path, stream, offset, duration):
    """Whether ``path`` is read as a StreamedClip under ``AudioLoader(stream=stream)``."""
    if isinstance(stream, bool):
        return stream
    from sklaudio.io._stream import file_duration

    limit = _STREAM_AUTO_S if stream == "auto" else float(stream)
    seconds = file_duration(path)
    if seconds is None:
        return False  # unreadable: load_audio raises the error that says why
    seconds = max(0.0, seconds - offset)
    if duration is not None:
        seconds = min(seconds, duration)
    return seconds > limit


def _load_batch(paths, *, sr, mono, offset, duration, dtype, res_type, n_jobs, verbose, caller,
                on_truncated="error", stream=False):
    from sklaudio.io._stream import open_stream

    long = [_streams(p, stream, offset, duration) for p in paths]
    short = [p for p, is_long in zip(paths, long) if not is_long]
    results = iter(map_clips(
        _load_one, short, n_jobs=n_jobs, verbose=verbose, desc=f"{caller}: loading",
        sr=sr, mono=mono, offset=offset, duration=duration, dtype=dtype, res_type=res_type,
        on_truncated=on_truncated,
    ))
    clips, rates = [], []
    for path, is_long in zip(paths, long):
        if is_long:  # checked now, read block by block by the steps that follow
            clip = open_stream(path, sr=sr, mono=mono, offset=offset, duration=duration,
                               dtype=dtype, res_type=res_type, on_truncated=on_truncated)
            y, rate = clip, clip.sr
        else:
            y, rate = next(results)
        clips.append(y)
        rates.append(rate)
    rate = _check_same_rate(paths, rates, caller) if sr is None else sr
    return ClipArray(clips, sr=rate)


def _resample_clip(y, *, orig_sr, target_sr, res_type):
    return librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type=res_type)


def _is_loaded(X):
    """True when ``X`` holds audio samples rather than paths."""
    from sklaudio.utils._stream import StreamedClip

    clip_types = (np.ndarray, StreamedClip)
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "fiu" or (X.dtype == object and X.ndim == 1 and len(X) > 0
                                         and isinstance(X[0], clip_types))
    if isinstance(X, (list, tuple)) and len(X) > 0:
        return isinstance(X[0], clip_types) or (
            isinstance(X[0], (list, tuple)) and len(X[0]) > 0
            and isinstance(X[0][0], (int, float, np.number))
        )
    return False


@Substitution(**_DOCS)
class AudioLoader(AudioTransformerMixin, BaseEstimator):
    """Load audio files named by paths: the first step of a pipeline on audio files.

    A stateless transformer: ``transform`` turns a list of file paths into a
    :class:`~sklaudio.utils.ClipArray` of float clips (one per path, in order) that
    carries the sampling rate, so the following audio steps know it. Decoding and
    resampling are those of :func:`load_audio`.

    Parameters
    ----------
    sr : number > 0 or None, default=22050
        Target sampling rate in Hz. None keeps the files' own rate, which must then be
        the same for all the files of one call.

    mono : bool, default=True
        Mix multi-channel files down to mono. With False, multi-channel files give
        ``(n_channels, n_samples)`` clips, which most audio steps reject.

    {offset_duration}

    dtype : {"float32", "float64"}, default="float32"
        Data type of the samples.

    {res_type}

    {on_truncated}

    stream : "auto", bool or float, default="auto"
        Which files are read block by block instead of whole: such a file becomes a
        :class:`~sklaudio.utils._stream.StreamedClip`, which the audio steps and
        feature extractors process in blocks, so memory stays bounded whatever the
        file's length (an hour-long file loaded whole costs gigabytes in the steps
        that follow). ``"auto"`` streams the files longer than 120 s (of the part
        read, after ``offset`` and ``duration``), a number the files longer than
        that many seconds, True every file, False none. Streamed or not, the
        samples, and the features computed from them, are the same (to float
        rounding); see :ref:`long_recordings`.

    n_jobs : int or None, default=None
        Number of files decoded in parallel (joblib's meaning: -1 uses all cores).

    verbose : int, default=0
        Print a progress bar to stderr when > 0.

    See Also
    --------
    load_audio : Load one file.
    load_audio_batch : The function behind ``transform``.
    read_dataset : Read the paths and labels of a data set.

    Notes
    -----
    Input can be a list, array or Series of paths, a one-column DataFrame, or an
    ``(n, 1)`` array as given by column selection. Clips already in memory (a
    :class:`~sklaudio.utils.ClipArray`, a float matrix, a list of 1-D arrays) pass
    through, resampled to ``sr`` when they carry another rate; plain arrays carry none
    and are taken to be at ``sr``. So one fitted pipeline predicts from paths and from
    loaded clips alike. The output is always the ragged
    (object) form, clips of different lengths being the rule with real files; it has
    no column names, so :meth:`get_feature_names_out` raises, and
    ``set_output(transform="pandas")`` leaves the output a ClipArray (which keeps
    ``Pipeline.set_output`` usable). The common checks of scikit-learn do not apply to
    it (its input is not a matrix): it has its own tests.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklaudio.io import AudioLoader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.wav") for i in range(3)]
    >>> for i, p in enumerate(paths):
    ...     sf.write(p, np.full(4000 * (i + 1), 0.5), 8000)
    >>> X = AudioLoader(sr=16000).fit_transform(paths)
    >>> X
    ClipArray(3 clips, 8000-24000 samples, sr=16000)
    >>> durations = FunctionTransformer(lambda X: [[len(x) / X.sr] for x in X])
    >>> make_pipeline(AudioLoader(sr=16000), durations).fit_transform(paths)
    [[0.5], [1.0], [1.5]]
    """

    # stateless and deterministic: search_with_cached_features may compute its output
    # once for every fold and grid point
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "mono": ["boolean"],
        "offset": [Interval(Real, 0, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [StrOptions(set(_FLOAT_DTYPES)), Options(type, {np.float32, np.float64})],
        "res_type": [str],
        "on_truncated": [StrOptions(set(_ON_TRUNCATED))],
        "stream": [StrOptions({"auto"}), "boolean", Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sr=22050, mono=True, offset=0.0, duration=None, dtype="float32",
                 res_type="soxr_hq", on_truncated="error", stream="auto", n_jobs=None,
                 verbose=0):
        self.sr = sr
        self.mono = mono
        self.offset = offset
        self.duration = duration
        self.dtype = dtype
        self.res_type = res_type
        self.on_truncated = on_truncated
        self.stream = stream
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters; there is nothing to learn.

        Parameters
        ----------
        X : Ignored
            Not used, present for API consistency by convention.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : AudioLoader
            The loader.
        """
        return self

    def transform(self, X):
        """Load the files named in ``X``.

        Parameters
        ----------
        X : sequence of str of length n_files, or DataFrame / ndarray with one column
            Paths of audio files.

        Returns
        -------
        clips : ClipArray of shape (n_files,)
            One float clip per path, in order, carrying ``sr``.
        """
        self._validate_params()  # stateless: transform may come without fit
        if _is_loaded(X):
            return self._from_clips(X)
        paths = _as_path_list(X, type(self).__name__)
        return _load_batch(
            paths, sr=_check_target_sr(self.sr), mono=self.mono, offset=float(self.offset),
            duration=None if self.duration is None else float(self.duration),
            dtype=_check_dtype(self.dtype), res_type=self.res_type, n_jobs=self.n_jobs,
            verbose=self.verbose, caller=type(self).__name__, on_truncated=self.on_truncated,
            stream=self.stream,
        )

    def _from_clips(self, X):
        """Clips already in memory: check them, resample to ``sr``, cast to ``dtype``."""
        caller = type(self).__name__
        clips, is_matrix = check_clips(X, caller=caller)
        src = carried_sr(X)
        target = _check_target_sr(self.sr)
        if target is None:
            if src is None:
                raise ParameterError(
                    f"{caller}(sr=None) got clips that carry no sampling rate (plain arrays). "
                    "Set sr to their rate, or pass a ClipArray(clips, sr=...)."
                )
            target = src
        dtype = _check_dtype(self.dtype)
        for i, c in enumerate(clips):
            if is_streamed(c) and ((src is not None and src != target) or c.dtype != dtype):
                raise ParameterError(
                    f"{caller}(sr={target}, dtype={dtype.name}) got clip {i}, a streamed clip "
                    f"at {src} Hz in {c.dtype.name}: streamed clips pass through unchanged. "
                    "Load the file again with this loader (pass its path)."
                )
        if src is not None and src != target:
            clips = map_clips(_resample_clip, list(clips), n_jobs=self.n_jobs,
                              verbose=self.verbose, desc=caller, orig_sr=src,
                              target_sr=target, res_type=self.res_type)
        out = [c if is_streamed(c) else np.asarray(c, dtype=dtype) for c in clips]
        return wrap_clips(out, target, as_matrix=is_matrix)

    def fit_transform(self, X, y=None):
        """Check the parameters and load the files named in ``X``.

        Parameters
        ----------
        X : sequence of str of length n_files, or DataFrame / ndarray with one column
            Paths of audio files.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        clips : ClipArray of shape (n_files,)
            One float clip per path, in order, carrying ``sr``.
        """
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features=None):
        """Not available: the output is audio clips, which have no column names.

        Parameters
        ----------
        input_features : Ignored
            Not used.

        Raises
        ------
        ValueError
            Always, with a message saying where feature names come from.
        """
        raise ValueError(
            "AudioLoader outputs audio clips of different lengths, which have no column "
            "names. Ask a later step that outputs features: for a pipeline whose step i "
            "is the first feature extractor, use pipe[i:-1].get_feature_names_out()."
        )

    def __sklearn_is_fitted__(self):
        return True  # stateless, like FunctionTransformer

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
