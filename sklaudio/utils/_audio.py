"""The audio input contract shared by every audio-level step.

Audio reaches an estimator in one of three forms:

(a) a float ndarray of shape ``(n_clips, n_samples)``: clips of equal length;
(b) a sequence of 1-D arrays of different lengths (real data always is);
(c) file paths, which only :class:`sklaudio.io.AudioLoader` accepts.

The sampling rate travels with the clips: loaders and audio steps return a
:class:`ClipArray`, an ndarray subclass with an ``sr`` attribute that survives
indexing (so cross-validation splits keep it) and pickling. Each step resolves its
own ``sr`` parameter against the carried one with :func:`resolve_sr`, so a mismatch
is an error, never a silent wrong answer.
"""

import os
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_array

from sklaudio.exceptions import ParameterError
from sklaudio.utils._docstring import Substitution, _entry
from sklaudio.utils._parallel import map_clips  # batching, one BLAS thread, worker warnings

__all__ = [
    "DEFAULT_SR",
    "AudioTransformerMixin",
    "ClipArray",
    "carried_sr",
    "check_clips",
    "check_finite",
    "check_sr",
    "map_clips",
    "resolve_sr",
    "to_float",
    "transform_sr",
    "validate_clips",
    "wrap_clips",
]


# parameter entries shared by check_clips and validate_clips
_CHECK_DOCS = {"ensure_finite_min_samples": _entry("""
ensure_finite : bool, default=True
    Raise on NaN or infinite samples, naming the clip.

min_samples : int, default=1
    Fewest samples a clip may have.
""")}

#: librosa's default sampling rate, used when neither the step nor the clips give one.
DEFAULT_SR = 22050


class ClipArray(np.ndarray):
    """A batch of audio clips that carries its sampling rate.

    Either a 2-D float array ``(n_clips, n_samples)`` (clips of equal length) or a
    1-D object array whose items are 1-D float arrays (clips of any length). It is a
    plain :class:`numpy.ndarray` in every other respect: sklearn indexes it, joblib
    pickles it, ``np.asarray`` turns it back into a plain array.

    Parameters
    ----------
    clips : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
        The clips.

    sr : int
        Sampling rate of every clip in Hz.

    Attributes
    ----------
    sr : int
        Sampling rate in Hz. Kept by slicing, fancy indexing and pickling.

    See Also
    --------
    sklaudio.io.load_audio : Load files as a ClipArray.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import ClipArray
    >>> X = ClipArray([np.zeros(3), np.ones(5)], sr=16000)
    >>> X.shape, X.sr, [len(c) for c in X]
    ((2,), 16000, [3, 5])
    >>> X[[1]].sr
    16000
    """

    def __new__(cls, clips, sr):
        if isinstance(clips, np.ndarray) and clips.dtype != object and clips.ndim == 2:
            arr = np.asarray(clips).view(cls)
        else:
            clips = list(clips)
            arr = np.empty(len(clips), dtype=object)
            # item by item: numpy would otherwise broadcast equal-length clips into 2-D
            for i, clip in enumerate(clips):
                arr[i] = clip
            arr = arr.view(cls)
        arr.sr = check_sr(sr, "sr")
        return arr

    def __array_finalize__(self, obj):
        self.sr = getattr(obj, "sr", None)

    def __reduce__(self):
        reconstruct, args, state = super().__reduce__()
        return reconstruct, args, (state, self.sr)

    def __setstate__(self, state):
        base_state, self.sr = state
        super().__setstate__(base_state)

    @property
    def is_ragged(self):
        """True for a 1-D object batch of clips, False for an ``(n_clips, n_samples)`` matrix."""
        return self.dtype == object

    @property
    def lengths(self):
        """Number of samples of each clip (last axis), as an int ndarray of shape (n_clips,)."""
        if self.is_ragged:
            return np.array([np.shape(c)[-1] for c in self], dtype=int)  # (n_channels, n) too
        return np.full(self.shape[0], self.shape[1], dtype=int)

    def __repr__(self):
        n = self.shape[0]
        if self.is_ragged:
            lens = self.lengths
            span = f"{lens.min()}-{lens.max()} samples" if n else "no clips"
            n_streamed = sum(type(c).__name__ == "StreamedClip" for c in self)
            streamed = f" ({n_streamed} streamed)" if n_streamed else ""
            return f"ClipArray({n} clips{streamed}, {span}, sr={self.sr})"
        return f"ClipArray({n} clips x {self.shape[1]} samples, sr={self.sr}, dtype={self.dtype})"


def check_sr(sr, name="sr", *, none_means=None):
    """Validate a sampling rate: the one check every sklaudio step and loader uses.

    Parameters
    ----------
    sr : object
        The value to check.

    name : str, default="sr"
        How the error names it, e.g. ``"Trimmer(sr=...)"``.

    none_means : str or None, default=None
        When given, None is allowed (and returned); the error then says what None
        does, e.g. ``"keep each file's own rate"``.

    Returns
    -------
    sr : int, float or None
        An int when the rate is a whole number (16000.0 -> 16000), else a float.

    Raises
    ------
    ParameterError
        For a bool, a non-number, NaN, infinity, zero or a negative number.

    Examples
    --------
    >>> from sklaudio.utils import check_sr
    >>> check_sr(16000.0)
    16000
    """
    if sr is None and none_means is not None:
        return None
    if isinstance(sr, bool) or not isinstance(sr, Real) or not np.isfinite(sr) or sr <= 0:
        alternative = "" if none_means is None else f", or None to {none_means}"
        raise ParameterError(
            f"{name}={sr!r} is not a valid sampling rate: expected a positive number of "
            f"samples per second, such as 16000 or 22050{alternative}."
        )
    return int(sr) if float(sr).is_integer() else float(sr)


def carried_sr(X):
    """Return the sampling rate that ``X`` carries, or None for plain arrays and lists.

    Parameters
    ----------
    X : object
        Clips: a :class:`ClipArray`, a DataFrame made by an audio step (its
        ``attrs["sr"]``), or anything else (which carries no rate).

    Returns
    -------
    sr : int, float or None
        The carried rate, or None.

    See Also
    --------
    resolve_sr : Decide the rate a step uses.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import ClipArray, carried_sr
    >>> carried_sr(ClipArray([np.zeros(3)], sr=16000)), carried_sr([np.zeros(3)])
    (16000, None)
    """
    sr = getattr(X, "sr", None)
    if sr is None and hasattr(X, "attrs") and isinstance(getattr(X, "attrs"), dict):
        sr = X.attrs.get("sr")  # a DataFrame made by set_output(transform="pandas")
    return sr


def resolve_sr(sr, X, *, caller):
    """Decide the sampling rate a step uses for ``X``.

    Parameters
    ----------
    sr : number or None
        The step's ``sr`` parameter. None follows the clips.

    X : object
        The input. A :class:`ClipArray` (or a DataFrame from an audio step) carries
        its sampling rate; plain arrays and lists carry none.

    caller : str
        Name of the step, for the error message.

    Returns
    -------
    sr : int or float
        The step's ``sr`` if given, else the carried one, else librosa's 22050.

    Raises
    ------
    ParameterError
        When the step's ``sr`` and the carried one differ.

    See Also
    --------
    transform_sr : The rate a fitted step uses in ``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import ClipArray, resolve_sr
    >>> X = ClipArray([np.zeros(3)], sr=16000)
    >>> resolve_sr(None, X, caller="MyStep"), resolve_sr(None, [np.zeros(3)], caller="MyStep")
    (16000, 22050)
    """
    carried = carried_sr(X)
    if sr is None:
        return DEFAULT_SR if carried is None else carried
    sr = check_sr(sr, f"{caller}(sr=...)")
    if carried is not None and carried != sr:
        raise ParameterError(
            f"{caller} has sr={sr}, but the clips it received carry sr={carried} "
            f"(they were loaded or produced at {carried} Hz). Set {caller}(sr=None) to "
            f"follow the clips, or load them at {sr} Hz with AudioLoader(sr={sr})."
        )
    return sr


def transform_sr(estimator, X):
    """The sampling rate a fitted audio step uses for ``X`` in ``transform``.

    The one sample-rate rule of sklaudio: a plain array or list (no carried rate)
    is at the rate the step was fitted at (``estimator.sr_``); clips that carry a
    rate (a :class:`ClipArray`, or a DataFrame from an audio step) must carry that
    same rate. A step that may transform without being fitted (no ``sr_``) falls
    back to :func:`resolve_sr` of its ``sr`` parameter.

    Parameters
    ----------
    estimator : estimator
        The step, with an ``sr`` parameter and, once fitted, an ``sr_`` attribute.

    X : object
        The clips given to ``transform``.

    Returns
    -------
    sr : int or float
        The rate to use.

    Raises
    ------
    ParameterError
        When ``X`` carries another rate than the one the step was fitted at.

    See Also
    --------
    resolve_sr : The rate a step uses in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Trimmer
    >>> from sklaudio.utils import ClipArray, transform_sr
    >>> step = Trimmer().fit(ClipArray(np.zeros((1, 8)), sr=16000))
    >>> transform_sr(step, np.zeros((1, 8)))  # a plain array: the fitted rate
    16000
    """
    caller = type(estimator).__name__
    sr = getattr(estimator, "sr_", None)
    if sr is None:
        return resolve_sr(estimator.sr, X, caller=caller)
    carried = carried_sr(X)
    if carried is not None and carried != sr:
        raise ParameterError(
            f"{caller} was fitted on clips at sr={sr} Hz, but transform received clips "
            f"carrying sr={carried} Hz. Resample them to {sr} Hz (e.g. AudioLoader(sr={sr})) "
            f"or refit on clips at {carried} Hz."
        )
    return sr


_PCM_SCALE = {
    np.dtype(np.int8): (0.0, 2.0**7),
    np.dtype(np.uint8): (128.0, 2.0**7),
    np.dtype(np.int16): (0.0, 2.0**15),
    np.dtype(np.uint16): (2.0**15, 2.0**15),
    np.dtype(np.int32): (0.0, 2.0**31),
    np.dtype(np.uint32): (2.0**31, 2.0**31),
    np.dtype(np.int64): (0.0, 2.0**63),
    np.dtype(np.uint64): (2.0**63, 2.0**63),
}


def to_float(y):
    """Convert integer PCM to float32 in [-1, 1]; keep float32/float64 as they are.

    int16 is divided by 2**15, int32 by 2**31 (and so on for each width); unsigned
    types are centred first (uint8 128 -> 0.0), as in WAV files. Booleans and other
    dtypes raise a TypeError.

    Parameters
    ----------
    y : array-like
        Samples of any shape.

    Returns
    -------
    y : ndarray
        float32 for integer PCM; float32 and float64 unchanged (no copy); other
        floats as float64.

    See Also
    --------
    check_clips : Validate a batch of clips (it calls this).

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import to_float
    >>> to_float(np.array([-32768, 0, 16384], dtype=np.int16))
    array([-1. ,  0. ,  0.5], dtype=float32)
    """
    y = np.asarray(y)
    if y.dtype in (np.float32, np.float64):
        return y
    if y.dtype in _PCM_SCALE:
        offset, scale = _PCM_SCALE[y.dtype]
        return ((y.astype(np.float64) - offset) / scale).astype(np.float32)
    if np.issubdtype(y.dtype, np.floating):  # float16, longdouble
        return y.astype(np.float64)
    raise TypeError(
        f"audio samples must be float or integer PCM; got dtype {y.dtype}. Convert them "
        "with y.astype(np.float32)."
    )


def _is_path_like(x):
    return isinstance(x, (str, bytes, os.PathLike))


@Substitution(**_CHECK_DOCS)
def check_clips(X, *, caller, ensure_finite=True, min_samples=1):
    """Validate a batch of clips in form (a) or (b).

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_samples), sequence of 1-D arrays or DataFrame
        The clips. Integer PCM is scaled to float32 in [-1, 1].

    caller : str
        Name of the step, used in error messages.

    {ensure_finite_min_samples}

    Returns
    -------
    clips : ndarray of shape (n_clips, n_samples) or list of 1-D ndarray
        A float matrix for form (a), a list of float arrays for form (b). A long clip
        read block by block (a ``StreamedClip``, as :class:`sklaudio.io.AudioLoader`
        gives for long files) is passed through as it is, in form (b): its dtype and
        length are checked here, its samples by whoever reads them.

    is_matrix : bool
        Whether ``clips`` is the matrix form.

    Raises
    ------
    TypeError
        For file paths (load them first), strings, or non-numeric clips.
    ValueError
        For no clips, empty or multi-channel clips, and NaN or infinite samples, with
        the index of the offending clip; and for a stereo (or few-channel) recording
        laid out ``(n_samples, n_channels)``, as :func:`soundfile.read` returns it: a
        batch of clips of at most 8 samples with over 100 times as many clips as
        samples (no real batch of clips looks like that).

    See Also
    --------
    validate_clips : The same checks, recording the input shape on an estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import check_clips
    >>> clips, is_matrix = check_clips([np.zeros(3), np.array([0, 16384], np.int16)],
    ...                                caller="MyStep")
    >>> is_matrix, [c.dtype.name for c in clips]
    (False, ['float64', 'float32'])
    """
    if sp.issparse(X):  # before the dict test below: dok matrices are dicts
        # sklearn's wording, which its common checks look for
        raise TypeError(
            f"Sparse data was passed for X, but dense data is required. {caller} works "
            "on waveforms: use X.toarray()."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame from set_output
        X = X.to_numpy()
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        try:  # a 2-D object array of numbers is a matrix, not a list of rows
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{caller} expects audio samples as numbers; X has dtype object with an "
                f"entry that is not one ({exc}). Convert it with X.astype(np.float32)."
            ) from exc
    elif (not isinstance(X, (np.ndarray, list, tuple, str, bytes)) and not hasattr(X, "iloc")
          and hasattr(X, "__array__")):
        X = np.asarray(X)  # array-likes that only speak the array protocol
    if _is_path_like(X):
        raise TypeError(
            f"{caller} got a single path {X!r}; it expects clips. Load audio first with "
            "sklaudio.load_audio or put sklaudio.AudioLoader first in the pipeline."
        )
    if not hasattr(X, "__len__") or isinstance(X, dict):
        raise TypeError(
            f"{caller} expects an array (n_clips, n_samples) or a list of 1-D arrays, one "
            f"per clip; got {type(X).__name__}."
        )
    if isinstance(X, np.ndarray) and X.dtype != object:
        return _check_matrix(X, caller=caller, ensure_finite=ensure_finite,
                             min_samples=min_samples), True
    items = list(X)
    if len(items) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required "
            f"by {caller}. Pass at least one clip."
        )
    if all(_is_path_like(x) for x in items[:1]):
        raise TypeError(
            f"{caller} got file paths (first: {items[0]!r}); it expects loaded clips. Put "
            "sklaudio.AudioLoader first in the pipeline, or call sklaudio.load_audio."
        )
    if all(np.ndim(x) == 0 for x in items):
        # a flat list of numbers is one clip, which sklearn calls a 1-D X
        raise ValueError(
            "Expected 2D array, got 1D array instead. "
            f"{caller} got a flat sequence of {len(items)} numbers. For a single clip "
            "pass [y] or y[np.newaxis, :]."
        )
    lengths = [np.shape(x)[0] if np.ndim(x) == 1 else None for x in items]
    if None not in lengths:
        _check_not_channels_last(len(items), max(lengths), caller)
    clips = [_check_one_clip(x, i, caller=caller, ensure_finite=ensure_finite,
                             min_samples=min_samples) for i, x in enumerate(items)]
    return clips, False


def _check_one_clip(x, i, *, caller, ensure_finite, min_samples):
    """Clip ``i`` of a list as a 1-D float array, or an error naming it."""
    from sklaudio.utils._stream import is_streamed

    if is_streamed(x):
        # a long clip read block by block: its samples are checked as they are read
        # (utils._stream.checked_blocks), so only what is known up front is checked here
        return _check_streamed_clip(x, i, caller=caller, min_samples=min_samples)
    if _is_path_like(x):
        raise TypeError(f"clip {i} is a path ({x!r}); {caller} expects loaded clips.")
    try:
        x = np.asarray(x)
    except ValueError as exc:
        raise ValueError(f"clip {i} cannot be read as an array by {caller}: {exc}") from exc
    if x.dtype == object or x.dtype.kind in "USV":
        raise TypeError(
            f"clip {i} has dtype {x.dtype}; {caller} expects numbers (float or integer PCM)."
        )
    if x.ndim != 1:
        raise ValueError(
            f"clip {i} has shape {x.shape}, but {caller} expects mono clips of shape "
            "(n_samples,). Mix channels down first (e.g. y.mean(axis=0) for (2, n)) or "
            "load with AudioLoader(mono=True)."
        )
    x = to_float(x)
    if x.shape[0] < min_samples:
        raise ValueError(
            f"clip {i} has {x.shape[0]} samples; {caller} needs at least {min_samples}. "
            "Drop it, or pad it (e.g. Trimmer(duration=...))."
        )
    if ensure_finite:
        check_finite(x, subject=f"clip {i}", caller=caller)
    return x


def _check_streamed_clip(x, i, *, caller, min_samples):
    """A StreamedClip item: float samples and enough of them; the clip itself is kept."""
    subject = f"clip {i}" + (f" ({x.name})" if x.name else "")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{subject} is streamed with dtype {x.dtype}; {caller} expects float samples. "
            "Stream it as float32 (sklaudio.AudioLoader does)."
        )
    if x.n_samples < min_samples:
        raise ValueError(
            f"{subject} has {x.n_samples} samples; {caller} needs at least {min_samples}. "
            "Drop it, or pad it (e.g. Trimmer(duration=...))."
        )
    return x


#: A batch whose clips have at most this many samples, and more than
#: _CHANNELS_RATIO times as many clips as samples, is a (n_samples, n_channels)
#: recording read the wrong way round. No real batch of clips looks like that: 8
#: samples are half a millisecond at 16 kHz, and such a batch would need over 800 of them.
_MAX_CHANNELS = 8
_CHANNELS_RATIO = 100


def _check_not_channels_last(n_clips, n_samples, caller):
    """Refuse a (n_samples, n_channels) array, the layout soundfile.read returns."""
    if 1 <= n_samples <= _MAX_CHANNELS and n_clips > _CHANNELS_RATIO * n_samples:
        raise ValueError(
            f"{caller} got {n_clips} clips of {n_samples} sample(s) each (shape "
            f"({n_clips}, {n_samples})): this looks like one recording of {n_clips} samples "
            f"and {n_samples} channel(s), laid out (n_samples, n_channels) as soundfile.read "
            "returns it. Clips go in rows, one clip per row: mix the channels down to one "
            "clip with [X.mean(axis=1)] (or load with AudioLoader(mono=True)), or, if each "
            "column is a clip, transpose with X.T."
        )


def _check_matrix(X, *, caller, ensure_finite, min_samples):
    if X.ndim == 2:
        _check_not_channels_last(X.shape[0], X.shape[1], caller)
    if X.ndim == 3:
        raise ValueError(
            f"Found array with dim 3. {caller} expects <= 2, that is (n_clips, n_samples) of "
            f"mono audio; got shape {X.shape}. If axis 1 holds channels, mix them down with "
            "X.mean(axis=1)."
        )
    if X.dtype.kind in "iu":
        X = to_float(X)
    if X.ndim == 2 and ensure_finite and X.dtype.kind == "f":
        check_finite(X, subject="X", caller=caller)
    # sklearn's own wording for the rest (1-D, 0 clips, complex, object): its checks read it
    X = check_array(
        X,
        dtype=[np.float64, np.float32],
        ensure_all_finite=ensure_finite,
        ensure_min_features=min_samples,
        input_name="X",
        estimator=caller,
    )
    return X


_FINITE_HINT = "Audio must be finite; replace bad samples (np.nan_to_num) or drop the clip."


def check_finite(y, *, subject, caller=None, channels=False, error=ValueError,
                 hint=_FINITE_HINT):
    """Raise ``error`` naming the first NaN or infinite sample of ``y``: the one finite check.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_rows, n_samples)
        One clip, clips in rows, or (``channels=True``) the channels of one recording.

    subject : str
        What holds ``y``, for the message: ``"clip 3"``, ``"X"``, a file name.

    caller : str or None, default=None
        The step that received ``y``, named in the message when given.

    channels : bool, default=False
        Rows of a 2-D ``y`` are channels of ``subject`` rather than clips.

    error : type, default=ValueError
        Exception class to raise.

    hint : str
        How to fix it, appended to the message.

    Raises
    ------
    error
        ``Input contains NaN: clip 1 at sample 5, given to Trimmer. ...``

    See Also
    --------
    check_clips : Validate a batch of clips (it calls this).

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import check_finite
    >>> check_finite(np.array([[0.0, 1.0], [0.5, np.nan]]), subject="X", caller="MyStep")
    Traceback (most recent call last):
    ...
    ValueError: Input contains NaN: clip 1 at sample 1, given to MyStep. Audio must be ...
    """
    bad = ~np.isfinite(y)
    if not bad.any():
        return
    idx = np.argwhere(bad)[0]
    kind = "NaN" if np.isnan(y).any() else "infinity (inf)"
    if y.ndim == 2 and not channels:
        subject = f"clip {idx[0]}"
    where = f"{subject} at sample {idx[-1]}"
    if y.ndim == 2 and channels:
        where += f" of channel {idx[0]}"
    given = f", given to {caller}" if caller else ""
    raise error(f"Input contains {kind}: {where}{given}. {hint}")


def wrap_clips(clips, sr, *, as_matrix=False):
    """Return ``clips`` as a :class:`ClipArray` carrying ``sr``.

    Parameters
    ----------
    clips : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
        The clips, in order.

    sr : int or float
        Their sampling rate in Hz.

    as_matrix : bool, default=False
        Clips of equal length (and dtype) become a 2-D ClipArray (form (a) stays form
        (a)); otherwise, or when lengths differ, a 1-D object ClipArray.

    Returns
    -------
    clips : ClipArray
        The clips, carrying ``sr``.

    See Also
    --------
    ClipArray : The container.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import wrap_clips
    >>> wrap_clips([np.zeros(4), np.ones(4)], 8000, as_matrix=True).shape
    (2, 4)
    >>> wrap_clips([np.zeros(4), np.ones(2)], 8000, as_matrix=True).shape
    (2,)
    """
    if isinstance(clips, np.ndarray) and clips.dtype != object and clips.ndim == 2:
        return ClipArray(clips, sr) if as_matrix else ClipArray(list(clips), sr)
    clips = list(clips)
    same = len({len(c) for c in clips}) == 1 and len({c.dtype for c in clips}) == 1
    if as_matrix and clips and same:
        return ClipArray(np.stack(clips), sr)
    return ClipArray(clips, sr)


class AudioTransformerMixin(TransformerMixin):
    """Mixin for steps whose output is audio (clips in, clips out).

    Their output is a :class:`ClipArray` carrying the sampling rate. ``set_output``
    is honoured where audio is tabular: with ``transform="pandas"`` a matrix of
    equal-length clips becomes a DataFrame (``attrs["sr"]`` keeps the rate), while
    clips of different lengths stay a ClipArray, since a DataFrame cannot hold them.
    This keeps ``Pipeline.set_output(transform="pandas")`` usable on a pipeline that
    starts with audio steps.

    See Also
    --------
    sklaudio.preprocessing.Trimmer : An audio step built on it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Trimmer
    >>> Trimmer(sr=8000, top_db=None).set_output(transform="pandas").fit_transform(
    ...     np.zeros((2, 3))).attrs["sr"]
    8000
    """

    def __init_subclass__(cls, **kwargs):
        # sklearn's automatic wrapping would turn ragged clips into a broken DataFrame
        super().__init_subclass__(auto_wrap_output_keys=None, **kwargs)

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``"pandas"`` or ``"polars"`` turn a matrix of equal-length clips into a
            DataFrame; clips of different lengths stay a :class:`ClipArray`. None
            leaves the configuration unchanged.

        Returns
        -------
        self : estimator
            The step, for chaining.
        """
        if transform is None:
            return self
        if transform not in {"default", "pandas", "polars"}:
            raise ValueError(
                f"set_output(transform={transform!r}) is not supported; use 'default', "
                "'pandas' or 'polars'."
            )
        self._sklearn_output_config = {"transform": transform}
        return self

    def _wrap_output(self, out, sr, X_in=None):
        config = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        if config == "default" or out.is_ragged:
            return out
        names = self._output_names(out.shape[1])
        if config == "polars":
            import polars as pl

            return pl.DataFrame(np.asarray(out), schema=list(names), orient="row")
        import pandas as pd

        index = X_in.index if hasattr(X_in, "iloc") else None  # a list's .index is a method
        df = pd.DataFrame(np.asarray(out), columns=names, index=index)
        df.attrs["sr"] = sr
        return df

    def _output_names(self, width):
        names_in = getattr(self, "feature_names_in_", None)
        if names_in is not None and len(names_in) == width:
            return np.asarray(names_in, dtype=object)
        return np.asarray([f"sample{i}" for i in range(width)], dtype=object)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, for a matrix of equal-length clips.

        Audio columns are samples: the input's names when the length is kept,
        ``sample0``, ``sample1``, ... otherwise.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; must match ``feature_names_in_`` when it exists.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output sample.
        """
        n_in = getattr(self, "n_features_in_", None)
        if n_in is None:
            raise ValueError(
                f"{type(self).__name__} has no fixed output columns: it was not fitted on a "
                "matrix (n_clips, n_samples). Fit it on such a matrix first."
            )
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            names_in = getattr(self, "feature_names_in_", None)
            if names_in is not None and not np.array_equal(input_features, names_in):
                raise ValueError("input_features is not equal to feature_names_in_")
            if len(input_features) != n_in:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({n_in}), got {len(input_features)}"
                )
        width = self._n_samples_out(n_in)
        if input_features is not None and width == n_in:
            return input_features
        return self._output_names(width)

    def _n_samples_out(self, n_samples_in):
        """Output length for clips of ``n_samples_in`` samples; identity by default."""
        return n_samples_in


@Substitution(**_CHECK_DOCS)
def validate_clips(estimator, X, *, reset, ensure_finite=True, min_samples=1):
    """Validate clips for ``estimator`` and record (``reset=True``) its input shape.

    A matrix (form (a)) sets ``n_features_in_`` (its number of samples) and, for a
    DataFrame with string columns, ``feature_names_in_``, as sklearn's
    ``validate_data`` does. Clips of different lengths (form (b)) have no fixed
    width, so fitting on them removes ``n_features_in_``. With ``reset=False``
    the length is not compared: audio steps accept clips of any length.

    Parameters
    ----------
    estimator : estimator
        The step; its class name appears in error messages.

    X : ndarray of shape (n_clips, n_samples), sequence of 1-D arrays or DataFrame
        The clips.

    reset : bool
        True in ``fit``: record the input width and names.

    {ensure_finite_min_samples}

    Returns
    -------
    clips : ndarray of shape (n_clips, n_samples) or list of 1-D ndarray
        A float matrix for form (a), a list of float arrays for form (b).

    is_matrix : bool
        Whether ``clips`` is the matrix form.

    See Also
    --------
    check_clips : The same checks, without an estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Trimmer
    >>> from sklaudio.utils import validate_clips
    >>> step = Trimmer()
    >>> clips, is_matrix = validate_clips(step, np.zeros((2, 5)), reset=True)
    >>> is_matrix, step.n_features_in_
    (True, 5)
    """
    from sklaudio.utils._compat import _check_feature_names, _check_n_features

    caller = type(estimator).__name__
    clips, is_matrix = check_clips(
        X, caller=caller, ensure_finite=ensure_finite, min_samples=min_samples
    )
    if reset:
        if is_matrix:
            _check_feature_names(estimator, X, reset=True)
            _check_n_features(estimator, clips, reset=True)
        else:
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(estimator, attr):
                    delattr(estimator, attr)
    elif is_matrix:
        _check_feature_names(estimator, X, reset=False)
    return clips, is_matrix
