"""Augmentation operations: small scikit-learn estimators that AudioAugmenter composes.

An operation holds ranges (a number for a fixed value, a ``(low, high)`` pair for a
value drawn per copy) and a probability ``p``. Nothing is fitted: like scikit-learn's
Gaussian-process kernels, an operation is a :class:`~sklearn.base.BaseEstimator` for
its parameters only (``get_params``, ``set_params``, ``clone``, ``repr`` and
``_parameter_constraints`` validation), so ``GridSearchCV`` tunes it through the
augmenter (``augmenter__noise__snr_db``).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from sklaudio.augment._functional import (
    _DOCS,
    _NOISE_COLORS,
    MIN_SAMPLES,
    N_FFT,
    _add_noise,
    _apply_gain,
    _as_audio,
    _check_noise,
    _pitch_shift,
    _time_shift,
    _time_stretch,
    _trim_silence,
)
from sklaudio.utils import resolve_sr
from sklaudio.utils._compat import Interval, StrOptions
from sklaudio.utils._docstring import Substitution, _entry

__all__ = [
    "AddNoise",
    "BaseOperation",
    "Gain",
    "PitchShift",
    "TimeShift",
    "TimeStretch",
    "TrimSilence",
]

APPLIED, NOT_DRAWN, TOO_SHORT = "applied", "not drawn", "too short"

_P_DOC = _entry("""
p : float, default=1.0
    Probability of applying the operation to a copy (the others stay as they are).
""")


def _is_number(v):
    return isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)


class Range(Interval):
    """A number, or a ``(low, high)`` pair of numbers with ``low <= high``, in bounds.

    A parameter constraint in scikit-learn's sense (``_parameter_constraints``): the
    value an operation draws from for each copy. It subclasses scikit-learn's
    ``Interval`` only so that its validation machinery accepts it.

    Parameters
    ----------
    low, high : float or None, default=None
        Bounds every number must respect (None: unbounded).

    open_low : bool, default=False
        ``low`` itself is excluded.
    """

    def __init__(self, low=None, high=None, *, open_low=False):  # noqa: D107
        self.hidden = False
        self.low, self.high, self.open_low = low, high, open_low

    def is_satisfied_by(self, val):
        items = tuple(val) if isinstance(val, (tuple, list)) else (val,)
        if len(items) not in (1, 2) or not all(_is_number(v) for v in items):
            return False
        if len(items) == 2 and items[0] > items[1]:
            return False
        if self.low is not None and not all(
            v > self.low if self.open_low else v >= self.low for v in items
        ):
            return False
        return self.high is None or all(v <= self.high for v in items)

    def __str__(self):
        bounds = ""
        if self.low is not None:
            bounds = f" {'>' if self.open_low else '>='} {self.low}"
        if self.high is not None:
            bounds += f"{' and' if bounds else ''} <= {self.high}"
        return f"a number{bounds} or a (low, high) pair of such numbers with low <= high"


@Substitution(p=_P_DOC)
class BaseOperation(BaseEstimator):
    """Base class of the augmentation operations.

    A subclass declares its parameters as keyword-only arguments of ``__init__``
    (stored verbatim) with their ``_parameter_constraints``, and transforms one clip
    in ``_apply(y, sr, rng)``. ``min_samples(sr)`` is the shortest clip it can work
    on: shorter clips are left unchanged by :meth:`apply` (a documented skip that
    :class:`AudioAugmenter` counts and warns about). ``changes_length`` says whether
    its output can be longer or shorter than its input.

    Parameters
    ----------
    {p}

    Attributes
    ----------
    changes_length : bool
        Whether the output can be longer or shorter than the input.

    See Also
    --------
    AudioAugmenter : Applies operations to copies of the training clips.

    Examples
    --------
    An operation of your own: keep ``__init__`` to storing parameters, declare their
    constraints, and transform one clip in ``_apply``.

    >>> import numpy as np
    >>> from sklaudio.augment import BaseOperation
    >>> class Invert(BaseOperation):
    ...     _parameter_constraints = {**BaseOperation._parameter_constraints}
    ...     def _apply(self, y, sr, rng):
    ...         return -y
    >>> Invert().apply(np.array([0.5, -0.25]), sr=8000)
    array([-0.5 ,  0.25])
    """

    _parameter_constraints: dict = {"p": [Interval(Real, 0, 1, closed="both")]}

    #: whether the output can differ in length from the input (a subclass may make
    #: it a property of its parameters, as TimeStretch does with ``keep_length``)
    changes_length = False

    # shortest clip in samples; the phase-vocoder operations need 64
    _min_samples = 1

    def __init__(self, *, p=1.0):
        self.p = p

    def _validate(self):
        """Check the parameters against ``_parameter_constraints`` (named errors)."""
        self._validate_params()

    @staticmethod
    def _draw(value, rng, *, log=False):
        if not isinstance(value, (tuple, list)):
            return float(value)
        low, high = float(value[0]), float(value[-1])
        if low == high:
            return low
        if log:
            return float(np.exp(rng.uniform(np.log(low), np.log(high))))
        return float(rng.uniform(low, high))

    def min_samples(self, sr):
        """Fewest samples a clip needs for this operation (shorter ones are skipped).

        Parameters
        ----------
        sr : float
            Sampling rate in Hz.

        Returns
        -------
        n : int
            Minimum clip length in samples.
        """
        return self._min_samples

    def _maybe_apply(self, y, sr, rng):
        """Apply with probability ``p``: returns ``(clip, status)``."""
        if rng.uniform() >= self.p:
            return y, NOT_DRAWN
        if y.shape[-1] < self.min_samples(sr):
            return y, TOO_SHORT
        return self._apply(y, sr, rng), APPLIED

    def apply(self, y, *, sr=None, random_state=None):
        """Apply the operation to one clip, with probability ``p``.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            One clip.

        sr : float or None, default=None
            Sampling rate; None follows the rate ``y`` carries, else 22050.

        random_state : int, RandomState instance or None, default=None
            Controls the random draws; an int gives the same output every call.

        Returns
        -------
        y_out : ndarray of shape (n_samples_out,)
            The augmented clip, same dtype as ``y``. A clip shorter than
            ``min_samples(sr)`` comes back unchanged.
        """
        self._validate()
        sr = resolve_sr(sr, y, caller=type(self).__name__)
        arr = _as_audio(y, type(self).__name__)
        if arr.ndim != 1:
            raise ValueError(
                f"{type(self).__name__}.apply works on one clip of shape (n_samples,); got "
                f"shape {arr.shape}. Use AudioAugmenter for batches."
            )
        return self._maybe_apply(arr, sr, check_random_state(random_state))[0]

    def _apply(self, y, sr, rng):  # pragma: no cover - abstract
        raise NotImplementedError


@Substitution(p=_P_DOC)
class AddNoise(BaseOperation):
    """Add white, pink, brown or recorded noise at a random signal-to-noise ratio.

    Parameters
    ----------
    snr_db : float or (float, float), default=(10.0, 30.0)
        SNR in dB, or a range it is drawn from uniformly for each copy.

    noise : {"white", "pink", "brown"} or ndarray of shape (n_noise,), default="white"
        Noise colour, or a noise recording at the clips' sampling rate (a random
        excerpt is used, looped if too short). See :func:`add_noise`.

    {p}

    See Also
    --------
    add_noise : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import AddNoise
    >>> y = np.sin(np.linspace(0, 100, 8000))
    >>> z = AddNoise(snr_db=20.0, noise="pink").apply(y, sr=8000, random_state=0)
    >>> round(float(10 * np.log10(np.mean(y ** 2) / np.mean((z - y) ** 2))), 3)
    20.0
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "snr_db": [Range()],
        "noise": [StrOptions(set(_NOISE_COLORS)), np.ndarray],
    }

    def __init__(self, *, snr_db=(10.0, 30.0), noise="white", p=1.0):
        self.snr_db = snr_db
        self.noise = noise
        self.p = p

    def _apply(self, y, sr, rng):
        noise = _check_noise(self.noise, "AddNoise", sr)
        return _add_noise(y, sr, self._draw(self.snr_db, rng), noise, rng)


@Substitution(p=_P_DOC)
class TimeShift(BaseOperation):
    """Shift a clip in time by a random number of seconds.

    Parameters
    ----------
    shift : float or (float, float), default=(0.0, 0.5)
        Size of the shift in seconds (>= 0), or a range it is drawn from uniformly.

    direction : {"both", "left", "right"}, default="both"
        ``"right"`` moves the content later, ``"left"`` earlier, ``"both"``
        picks one of the two with equal probability for each copy.

    mode : {"roll", "pad"}, default="roll"
        ``"roll"`` wraps samples round (all kept); ``"pad"`` fills with zeros.
        See :func:`time_shift`.

    {p}

    See Also
    --------
    time_shift : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import TimeShift
    >>> TimeShift(shift=2.0, direction="right", mode="pad").apply(np.ones(5), sr=1)
    array([0., 0., 1., 1., 1.])
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "shift": [Range(low=0.0)],
        "direction": [StrOptions({"both", "left", "right"})],
        "mode": [StrOptions({"roll", "pad"})],
    }

    def __init__(self, *, shift=(0.0, 0.5), direction="both", mode="roll", p=1.0):
        self.shift = shift
        self.direction = direction
        self.mode = mode
        self.p = p

    def _apply(self, y, sr, rng):
        seconds = self._draw(self.shift, rng)
        sign = {"right": 1, "left": -1}.get(self.direction)
        if sign is None:
            sign = 1 if rng.uniform() < 0.5 else -1
        return _time_shift(y, sign * int(round(seconds * sr)), self.mode)


@Substitution(p=_P_DOC, n_fft=_DOCS["n_fft"])
class PitchShift(BaseOperation):
    """Shift the pitch by a random number of semitones, keeping the duration.

    Clips shorter than ``4 * n_fft`` use a smaller FFT (see :func:`pitch_shift`);
    clips shorter than 64 samples are left unchanged.

    Parameters
    ----------
    n_steps : float or (float, float), default=(-2.0, 2.0)
        Shift in semitones (steps of ``1 / bins_per_octave`` octave), or a range
        it is drawn from uniformly; positive is higher.

    bins_per_octave : int, default=12
        Steps per octave.

    {n_fft}

    {p}

    See Also
    --------
    pitch_shift : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import PitchShift
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    >>> z = PitchShift(n_steps=12.0).apply(y, sr=22050)
    >>> int(np.argmax(np.abs(np.fft.rfft(z))))
    880
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "n_steps": [Range()],
        "bins_per_octave": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, MIN_SAMPLES, None, closed="left")],
    }

    _min_samples = MIN_SAMPLES

    def __init__(self, *, n_steps=(-2.0, 2.0), bins_per_octave=12, n_fft=N_FFT, p=1.0):
        self.n_steps = n_steps
        self.bins_per_octave = bins_per_octave
        self.n_fft = n_fft
        self.p = p

    def _apply(self, y, sr, rng):
        return _pitch_shift(y, sr, self._draw(self.n_steps, rng), self.bins_per_octave,
                            self.n_fft)


@Substitution(p=_P_DOC, n_fft=_DOCS["n_fft"])
class TimeStretch(BaseOperation):
    """Speed a clip up or slow it down by a random rate, keeping the pitch.

    Clips shorter than ``4 * n_fft`` use a smaller FFT (see :func:`time_stretch`);
    clips shorter than 64 samples are left unchanged.

    Parameters
    ----------
    rate : float or (float, float), default=(0.8, 1.25)
        Speed factor (> 1 faster and shorter), or a range it is drawn from
        log-uniformly (so 0.8 and 1.25 are equally likely).

    keep_length : bool, default=False
        Cut or zero-pad the stretched clip back to its length. Without it, a matrix
        of clips comes back as clips of different lengths.

    {n_fft}

    {p}

    See Also
    --------
    time_stretch : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import TimeStretch
    >>> y = np.random.default_rng(0).standard_normal(22050)
    >>> TimeStretch(rate=1.25).apply(y, sr=22050).shape
    (17640,)
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "rate": [Range(low=0.0, open_low=True)],
        "keep_length": ["boolean"],
        "n_fft": [Interval(Integral, MIN_SAMPLES, None, closed="left")],
    }

    _min_samples = MIN_SAMPLES

    def __init__(self, *, rate=(0.8, 1.25), keep_length=False, n_fft=N_FFT, p=1.0):
        self.rate = rate
        self.keep_length = keep_length
        self.n_fft = n_fft
        self.p = p

    @property
    def changes_length(self):
        """Whether stretched clips keep another length (``not keep_length``)."""
        return not self.keep_length

    def _apply(self, y, sr, rng):
        return _time_stretch(y, self._draw(self.rate, rng, log=True), self.keep_length,
                             self.n_fft)


@Substitution(p=_P_DOC)
class Gain(BaseOperation):
    """Multiply a clip by a random gain in dB.

    Parameters
    ----------
    gain_db : float or (float, float), default=(-6.0, 6.0)
        Gain in dB, or a range it is drawn from uniformly. No clipping.

    {p}

    See Also
    --------
    apply_gain : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import Gain
    >>> Gain(gain_db=-20.0).apply(np.array([1.0, -0.5]))
    array([ 0.1 , -0.05])
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "gain_db": [Range()],
    }

    def __init__(self, *, gain_db=(-6.0, 6.0), p=1.0):
        self.gain_db = gain_db
        self.p = p

    def _apply(self, y, sr, rng):
        return _apply_gain(y, self._draw(self.gain_db, rng))


@Substitution(p=_P_DOC)
class TrimSilence(BaseOperation):
    """Cut leading and trailing silence (frames ``top_db`` below the peak).

    The clip becomes shorter, so a matrix of clips comes back as clips of
    different lengths. A clip that is silent throughout is kept whole.

    Parameters
    ----------
    top_db : float or (float, float), default=60.0
        Threshold in dB below the loudest frame, or a range drawn uniformly.

    {p}

    See Also
    --------
    trim_silence : The function applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import TrimSilence
    >>> y = np.concatenate([np.zeros(22050), np.ones(22050), np.zeros(22050)])
    >>> len(TrimSilence().apply(y, sr=22050)) < 30000
    True
    """

    _parameter_constraints: dict = {
        **BaseOperation._parameter_constraints,
        "top_db": [Range(low=0.0, open_low=True)],
    }

    changes_length = True

    def __init__(self, *, top_db=60.0, p=1.0):
        self.top_db = top_db
        self.p = p

    def _apply(self, y, sr, rng):
        return _trim_silence(y, self._draw(self.top_db, rng))
