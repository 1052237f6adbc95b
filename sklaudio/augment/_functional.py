"""Functional audio augmentations: one clip (or a batch of equal-length clips) in, one out.

Every function is keyword-only after ``y``, as in librosa, keeps the dtype of ``y``
and returns a :class:`~sklaudio.utils.ClipArray` when ``y`` carried a sampling rate
(a plain ndarray otherwise). ``y`` has time on the last axis: ``(n_samples,)`` for a
clip, ``(n_clips, n_samples)`` for a matrix of clips.
"""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.utils import check_random_state

from sklaudio.exceptions import ParameterError
from sklaudio.preprocessing._trim import _speech_intervals
from sklaudio.utils import ClipArray, carried_sr, resolve_sr, to_float
from sklaudio.utils._compat import Interval, StrOptions, validate_params
from sklaudio.utils._docstring import Substitution, _entry

__all__ = [
    "add_noise",
    "apply_gain",
    "colored_noise",
    "pitch_shift",
    "time_shift",
    "time_stretch",
    "trim_silence",
]

#: Default FFT size of the phase vocoder behind pitch_shift and time_stretch (librosa's).
N_FFT = 2048
#: Shortest clip pitch_shift and time_stretch work on (a 64-point FFT, 16-sample hop).
MIN_SAMPLES = 64

_NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}

# parameter entries shared by the functions (and, for n_fft, the operations)
_DOCS = {
    "n_fft": _entry("""
n_fft : int >= 64, default=2048
    Largest FFT size of the phase vocoder (hop ``n_fft // 4``). A clip shorter
    than ``4 * n_fft`` samples uses the largest power of two up to a quarter
    of its length instead, at least 64 (a 0.2 s clip at 8 kHz: 256), as
    librosa users pick a smaller ``n_fft`` for short signals.
"""),
    "random_state": _entry("""
random_state : int, RandomState instance or None, default=None
    Pass an int for the same noise on every call.
"""),
    "sr": _entry("""
sr : float or None, default=None
    Sampling rate; None follows the rate ``y`` carries, else 22050.
"""),
    "y_vocoder": _entry("""
y : ndarray of shape (n_samples,) or (n_clips, n_samples)
    Audio of at least 64 samples.
"""),
}


def _docs(*keys):
    return Substitution(**{key: _DOCS[key] for key in keys})


def _as_audio(y, caller, *, min_samples=1):
    """Float ndarray (..., n_samples) from ``y``; errors name the function and the fix."""
    if isinstance(y, np.ndarray) and y.dtype == object:
        raise TypeError(
            f"{caller} works on one clip (n_samples,) or a matrix of equal-length clips "
            "(n_clips, n_samples); got clips of different lengths. Apply it clip by clip "
            "([f(c, ...) for c in clips]) or use sklaudio.augment.AudioAugmenter."
        )
    arr = to_float(np.asarray(y))
    if arr.ndim == 0:
        raise ValueError(f"{caller} expects audio of shape (n_samples,); got a scalar.")
    if arr.shape[-1] < min_samples:
        raise ParameterError(
            f"{caller} needs clips of at least {min_samples} samples; got {arr.shape[-1]}. "
            "Pad the clip (librosa.util.fix_length) or leave this operation out for it."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{caller} got audio containing NaN or infinity; replace bad samples "
            "(np.nan_to_num) first."
        )
    return arr


def _out(out, dtype, sr, y):
    """Cast to the input dtype and keep the carried sampling rate."""
    out = np.asarray(out).astype(dtype, copy=False)
    if sr is not None and carried_sr(y) is not None and out.ndim == 2:
        return ClipArray(out, sr)
    return out


def _power(y):
    return np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "color": [StrOptions(set(_NOISE_COLORS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
@_docs("random_state")
def colored_noise(n_samples, *, color="white", random_state=None):
    """Gaussian noise with a power spectrum falling as ``1 / f**beta``.

    Made in the frequency domain: white Gaussian spectrum shaped by ``f**(-beta/2)``
    (DC set to zero), then scaled to unit power (mean square 1).

    Parameters
    ----------
    n_samples : int
        Length of the noise.

    color : {"white", "pink", "brown"}, default="white"
        ``beta`` = 0 (flat), 1 (-3 dB per octave) or 2 (-6 dB per octave).

    {random_state}

    Returns
    -------
    noise : ndarray of shape (n_samples,), float64
        Zero-mean noise of mean square 1.

    See Also
    --------
    add_noise : Add noise to a clip at a given signal-to-noise ratio.

    Examples
    --------
    >>> from sklaudio.augment import colored_noise
    >>> n = colored_noise(16000, color="pink", random_state=0)
    >>> n.shape, round(float((n ** 2).mean()), 6)
    ((16000,), 1.0)
    """
    return _colored_noise(n_samples, _NOISE_COLORS[color], check_random_state(random_state))


def _colored_noise(n, beta, rng, shape=()):
    white = rng.standard_normal((*shape, n))
    if beta == 0.0 or n < 3:
        noise = white
    else:
        spec = np.fft.rfft(white, axis=-1)
        f = np.fft.rfftfreq(n)
        scale = np.zeros_like(f)
        scale[1:] = f[1:] ** (-beta / 2.0)
        noise = np.fft.irfft(spec * scale, n=n, axis=-1)
    noise = noise - noise.mean(axis=-1, keepdims=True) if n > 1 else noise
    power = _power(noise)
    return noise / np.sqrt(np.where(power > 0, power, 1.0))


def _noise_like(y, noise, rng, sr):
    """Unit-power noise of the shape of ``y`` from a colour name or a noise clip."""
    n = y.shape[-1]
    if isinstance(noise, str):
        return _colored_noise(n, _NOISE_COLORS[noise], rng, y.shape[:-1])
    clip = noise
    rows = []
    for _ in range(int(np.prod(y.shape[:-1], dtype=int))):
        # a random excerpt; a noise clip shorter than y is looped
        start = rng.randint(len(clip))
        reps = -(-(start + n) // len(clip))
        rows.append(np.tile(clip, reps)[start:start + n])
    seg = np.asarray(rows, dtype=np.float64).reshape(y.shape)
    seg = seg - seg.mean(axis=-1, keepdims=True) if n > 1 else seg
    power = _power(seg)
    if np.any(power == 0):
        raise ParameterError(
            "the noise clip is silent over the excerpt drawn for this audio; pass a noise "
            "recording with energy throughout (or trim its silences first)."
        )
    return seg / np.sqrt(power)


def _check_noise(noise, caller, sr):
    """A colour name, or the noise clip as a float ndarray after checking its rate."""
    if isinstance(noise, str):
        if noise not in _NOISE_COLORS:
            raise ParameterError(
                f"{caller}: noise={noise!r} is not a known colour; use 'white', 'pink', "
                "'brown' or pass a 1-D noise clip (ndarray)."
            )
        return noise
    arr = np.asarray(noise)
    if arr.dtype == object or arr.ndim != 1 or arr.shape[0] == 0:
        raise ParameterError(
            f"{caller}: noise must be 'white', 'pink', 'brown' or a non-empty 1-D clip; got "
            f"{type(noise).__name__} of shape {getattr(arr, 'shape', None)}."
        )
    arr = to_float(arr)
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{caller}: the noise clip contains NaN or infinity.")
    noise_sr = carried_sr(noise)
    if noise_sr is not None and noise_sr != sr:
        raise ParameterError(
            f"{caller}: the noise clip carries sr={noise_sr}, but the audio is at sr={sr}. "
            f"Load the noise at {sr} Hz (AudioLoader(sr={sr}))."
        )
    return arr


@validate_params(
    {
        "y": ["array-like"],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "snr_db": [Interval(Real, None, None, closed="neither")],
        "noise": [StrOptions(set(_NOISE_COLORS)), "array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
@_docs("random_state")
def add_noise(y, *, sr=None, snr_db, noise="white", random_state=None):
    """Add noise to audio at a signal-to-noise ratio.

    The noise is scaled so that ``10 * log10(mean(y**2) / mean(noise**2))`` equals
    ``snr_db`` exactly, for each clip (each row of a matrix) separately. A silent
    clip gets no noise (its SNR is undefined) and comes back unchanged.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_clips, n_samples)
        Audio; integer PCM is scaled to float32 first.

    sr : float or None, default=None
        Sampling rate of ``y``. None follows the rate ``y`` carries (a ClipArray),
        else librosa's 22050. Only checked against a noise clip's carried rate.

    snr_db : float
        Signal-to-noise ratio in dB (higher is cleaner).

    noise : {"white", "pink", "brown"} or ndarray of shape (n_noise,), default="white"
        Coloured Gaussian noise (flat, -3 dB or -6 dB per octave), or a noise
        recording at the same sampling rate: a random excerpt is used, looped when
        the recording is shorter than ``y``.

    {random_state}

    Returns
    -------
    y_noisy : ndarray of the shape and dtype of ``y``
        A :class:`~sklaudio.utils.ClipArray` when ``y`` carried a sampling rate.

    See Also
    --------
    colored_noise : The noise itself.
    AddNoise : The same, with a random SNR, as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import add_noise
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> z = add_noise(y, sr=16000, snr_db=10.0, noise="pink", random_state=0)
    >>> z.dtype
    dtype('float32')
    >>> snr = 10 * np.log10(np.mean(y ** 2) / np.mean((z - y) ** 2))
    >>> round(float(snr), 2)
    10.0
    """
    sr = resolve_sr(sr, y, caller="add_noise")
    arr = _as_audio(y, "add_noise")
    noise = _check_noise(noise, "add_noise", sr)
    return _out(_add_noise(arr, sr, snr_db, noise, check_random_state(random_state)),
                arr.dtype, sr, y)


def _add_noise(y, sr, snr_db, noise, rng):
    unit = _noise_like(y, noise, rng, sr)
    scale = np.sqrt(_power(y) / 10.0 ** (snr_db / 10.0))
    return (y + scale * unit).astype(y.dtype, copy=False)


@validate_params(
    {
        "y": ["array-like"],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "shift": [Interval(Real, None, None, closed="neither")],
        "mode": [StrOptions({"roll", "pad"})],
    },
    prefer_skip_nested_validation=True,
)
@_docs("sr")
def time_shift(y, *, sr=None, shift, mode="roll"):
    """Shift audio in time by ``shift`` seconds (positive: later, to the right).

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_clips, n_samples)
        Audio.

    {sr}

    shift : float
        Shift in seconds, rounded to whole samples. Positive moves the content to
        the right (it starts later), negative to the left.

    mode : {"roll", "pad"}, default="roll"
        ``"roll"`` wraps the samples pushed out at one end round to the other
        (``np.roll``: every sample is kept); ``"pad"`` drops them and fills the
        gap with zeros (a shift of the whole length or more gives silence).

    Returns
    -------
    y_shifted : ndarray of the shape and dtype of ``y``
        The shifted clip (a ClipArray when ``y`` carries its rate).

    See Also
    --------
    TimeShift : Random shifts as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import time_shift
    >>> y = np.arange(1.0, 6.0)
    >>> time_shift(y, sr=1, shift=2)
    array([4., 5., 1., 2., 3.])
    >>> time_shift(y, sr=1, shift=-2, mode="pad")
    array([3., 4., 5., 0., 0.])
    """
    sr = resolve_sr(sr, y, caller="time_shift")
    arr = _as_audio(y, "time_shift")
    return _out(_time_shift(arr, int(round(shift * sr)), mode), arr.dtype, sr, y)


def _time_shift(y, k, mode):
    if mode == "roll":
        return np.roll(y, k, axis=-1)
    out = np.zeros_like(y)
    n = y.shape[-1]
    if abs(k) >= n:
        return out
    if k > 0:
        out[..., k:] = y[..., : n - k]
    elif k < 0:
        out[..., :k] = y[..., -k:]
    else:
        out[...] = y
    return out


@validate_params(
    {
        "y": ["array-like"],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_steps": [Interval(Real, None, None, closed="neither")],
        "bins_per_octave": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, MIN_SAMPLES, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@_docs("y_vocoder", "sr", "n_fft")
def pitch_shift(y, *, sr=None, n_steps, bins_per_octave=12, n_fft=N_FFT):
    """Shift the pitch by ``n_steps`` semitones, keeping the duration.

    :func:`librosa.effects.pitch_shift` (phase-vocoder time stretch, then
    resampling), with librosa's errors turned into ``ValueError``. Short clips
    use a smaller FFT (see ``n_fft``).

    Parameters
    ----------
    {y_vocoder}

    {sr}

    n_steps : float
        Shift in steps of ``1 / bins_per_octave`` octave (semitones by default);
        positive raises the pitch. Frequencies are multiplied by
        ``2 ** (n_steps / bins_per_octave)``.

    bins_per_octave : int, default=12
        Steps per octave.

    {n_fft}

    Returns
    -------
    y_shifted : ndarray of the shape and dtype of ``y``
        The clip at the new pitch, same duration.

    Raises
    ------
    ParameterError
        For clips shorter than 64 samples.

    See Also
    --------
    librosa.effects.pitch_shift : The implementation.
    PitchShift : Random pitch shifts as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import pitch_shift
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    >>> z = pitch_shift(y, sr=22050, n_steps=12)
    >>> spectrum = np.abs(np.fft.rfft(z))
    >>> int(np.argmax(spectrum))  # 1 s of audio: bin k is k Hz; 440 Hz up an octave
    880
    """
    sr = resolve_sr(sr, y, caller="pitch_shift")
    arr = _as_audio(y, "pitch_shift", min_samples=MIN_SAMPLES)
    return _out(_pitch_shift(arr, sr, n_steps, bins_per_octave, n_fft), arr.dtype, sr, y)


def _vocoder_n_fft(n_samples, n_fft=N_FFT):
    """FFT size the phase vocoder uses on a clip of ``n_samples``: ``n_fft`` or less.

    A clip shorter than ``4 * n_fft`` gets the largest power of two up to a quarter
    of its length (at least 64), so that the vocoder has a dozen or more frames:
    with one frame spanning most of a short clip, stretched events land tens of
    milliseconds off their place.
    """
    if n_samples >= 4 * n_fft:
        return int(n_fft)
    return max(MIN_SAMPLES, 1 << int(np.floor(np.log2(max(n_samples // 4, 1)))))


def _stft_kwargs(n_samples, n_fft):
    size = _vocoder_n_fft(n_samples, n_fft)
    return {"n_fft": size, "hop_length": size // 4}


def _pitch_shift(y, sr, n_steps, bins_per_octave=12, n_fft=N_FFT):
    if n_steps == 0:
        return y.copy()
    try:
        out = librosa.effects.pitch_shift(
            y, sr=sr, n_steps=float(n_steps), bins_per_octave=bins_per_octave,
            **_stft_kwargs(y.shape[-1], n_fft),
        )
    except librosa.util.exceptions.ParameterError as exc:
        raise ParameterError(f"librosa could not pitch-shift the audio: {exc}") from exc
    return out.astype(y.dtype, copy=False)


@validate_params(
    {
        "y": ["array-like"],
        "rate": [Interval(Real, 0, None, closed="neither")],
        "keep_length": ["boolean"],
        "n_fft": [Interval(Integral, MIN_SAMPLES, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@_docs("y_vocoder", "n_fft")
def time_stretch(y, *, rate, keep_length=False, n_fft=N_FFT):
    """Play audio ``rate`` times faster without changing its pitch.

    :func:`librosa.effects.time_stretch` (phase vocoder). The duration becomes
    ``n_samples / rate``. Short clips use a smaller FFT (see ``n_fft``).

    Parameters
    ----------
    {y_vocoder}

    rate : float > 0
        Speed factor: above 1 is faster (shorter), below 1 slower (longer).

    keep_length : bool, default=False
        Cut or zero-pad the result at the end back to ``n_samples``.

    {n_fft}

    Returns
    -------
    y_stretched : ndarray of shape (..., round(n_samples / rate)) or of the shape of ``y``
        Same dtype as ``y``.

    Raises
    ------
    ParameterError
        For clips shorter than 64 samples.

    See Also
    --------
    librosa.effects.time_stretch : The implementation.
    TimeStretch : Random stretches as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import time_stretch
    >>> y = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    >>> time_stretch(y, rate=2.0).shape, time_stretch(y, rate=0.5).dtype
    ((11025,), dtype('float32'))
    >>> time_stretch(y, rate=0.5, keep_length=True).shape
    (22050,)
    >>> time_stretch(y[:1000], rate=0.8).shape  # short clip: a 256-point FFT
    (1250,)
    """
    sr = carried_sr(y)
    arr = _as_audio(y, "time_stretch", min_samples=MIN_SAMPLES)
    return _out(_time_stretch(arr, rate, keep_length, n_fft), arr.dtype, sr, y)


def _time_stretch(y, rate, keep_length=False, n_fft=N_FFT):
    n = y.shape[-1]
    if rate == 1.0:
        out = y.copy()
    else:
        try:
            out = librosa.effects.time_stretch(y, rate=float(rate),
                                               **_stft_kwargs(n, n_fft))
        except librosa.util.exceptions.ParameterError as exc:
            raise ParameterError(f"librosa could not stretch the audio: {exc}") from exc
    # librosa's length is within a sample of n / rate; make it exact
    target = n if keep_length else max(1, int(round(n / rate)))
    return librosa.util.fix_length(out, size=target, axis=-1).astype(y.dtype, copy=False)


@validate_params(
    {"y": ["array-like"], "gain_db": [Interval(Real, None, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def apply_gain(y, *, gain_db):
    """Multiply audio by ``10 ** (gain_db / 20)``.

    No clipping is applied: floats above 1 in magnitude are kept.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_clips, n_samples)
        Audio.

    gain_db : float
        Gain in dB; +6.02 doubles the amplitude, negative values attenuate.

    Returns
    -------
    y_gained : ndarray of the shape and dtype of ``y``
        ``y`` times ``10 ** (gain_db / 20)``, not clipped.

    See Also
    --------
    Gain : Random gains as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import apply_gain
    >>> apply_gain(np.array([0.5, -0.25]), gain_db=20.0)
    array([ 5. , -2.5])
    """
    arr = _as_audio(y, "apply_gain")
    return _out(_apply_gain(arr, gain_db), arr.dtype, carried_sr(y), y)


def _apply_gain(y, gain_db):
    return (y * 10.0 ** (gain_db / 20.0)).astype(y.dtype, copy=False)


@validate_params(
    {
        "y": ["array-like"],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def trim_silence(y, *, top_db=60.0, frame_length=2048, hop_length=512):
    """Cut leading and trailing silence from a clip.

    The rule of :class:`sklaudio.preprocessing.Trimmer` and
    :func:`librosa.effects.trim`: frames more than ``top_db`` below the loudest
    frame are silence. A clip that is silent throughout is returned unchanged,
    never empty.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        One clip.

    top_db : float > 0, default=60.0
        Threshold in dB below the peak frame.

    frame_length : int, default=2048
        Analysis frame, in samples.

    hop_length : int, default=512
        Hop between frames, in samples.

    Returns
    -------
    y_trimmed : ndarray of shape (n_trimmed,)
        Same dtype as ``y``.

    See Also
    --------
    sklaudio.preprocessing.Trimmer : Trimming as a pipeline step.
    librosa.effects.trim : The same rule.
    TrimSilence : The same as an operation of AudioAugmenter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import trim_silence
    >>> y = np.concatenate([np.zeros(8000), np.ones(4000), np.zeros(8000)])
    >>> len(trim_silence(y, frame_length=512, hop_length=128)) < 6000
    True
    """
    arr = _as_audio(y, "trim_silence")
    if arr.ndim != 1:
        raise ValueError(
            f"trim_silence works on one clip of shape (n_samples,); got shape {arr.shape}. "
            "Trimmed clips have different lengths: trim them one by one."
        )
    return _out(_trim_silence(arr, top_db, frame_length, hop_length), arr.dtype,
                carried_sr(y), y)


def _trim_silence(y, top_db, frame_length=2048, hop_length=512):
    # the Trimmer's silence rule (librosa.effects.trim's), so sklaudio has one trimmer
    iv = _speech_intervals(y, top_db=float(top_db), ref=np.max, frame_length=frame_length,
                           hop_length=hop_length)
    if len(iv) == 0:
        return y.copy()
    return y[iv[0, 0] : iv[-1, 1]].astype(y.dtype, copy=True)
