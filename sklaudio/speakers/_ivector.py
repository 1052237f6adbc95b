"""IVectorExtractor: the classical i-vector front end (UBM + total variability), in numpy.

The maths (Dehak et al. 2011; Kenny 2012), in the units of each Gaussian of the UBM:
with ``N_c`` the soft count of a clip's frames in Gaussian ``c`` and ``F_c`` their sum,
centred on the Gaussian's mean and divided by its standard deviation, the clip's
vector ``w`` has the Gaussian posterior of precision ``L = I + sum_c N_c T_c' T_c`` and
mean ``L^-1 sum_c T_c' F_c``. Training ``T`` by EM with the frame alignments held
fixed raises ``sum_clips 0.5 b' L^-1 b - 0.5 log|L|`` (``b = sum_c T_c' F_c``), the
clips' log-likelihood up to a constant, at every iteration.
"""

import warnings
from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

from sklaudio.features._base import ClipFeaturesMixin, clip_blocks
from sklaudio.utils._audio import map_clips, validate_clips
from sklaudio.utils._compat import Interval, _fit_context
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import check_mel_band, mel_power, power_spectrogram, power_to_db
from sklaudio.utils._parallel import _one_thread

__all__ = ["IVectorExtractor"]

# clips per E-step batch: a batch holds (clips, n_ivector, n_ivector) precisions
_BATCH = 256
# EM iterations of the UBM (sklearn's GaussianMixture); it converges well before on speech
_UBM_ITER = 50


def frame_statistics(ubm, frames):
    """Zeroth- and first-order Baum-Welch statistics of each clip, whitened per Gaussian.

    Parameters
    ----------
    ubm : GaussianMixture
        Fitted, ``covariance_type="diag"``.
    frames : list of ndarray of shape (n_frames, n_dims)

    Returns
    -------
    N : ndarray of shape (n_clips, n_components)
        Soft frame counts.
    F : ndarray of shape (n_clips, n_components, n_dims)
        ``sum_t gamma_tc (x_t - mu_c) / sigma_c``.
    """
    sd = np.sqrt(ubm.covariances_)
    N = np.empty((len(frames), ubm.n_components))
    F = np.empty((len(frames), ubm.n_components, ubm.means_.shape[1]))
    for i, X in enumerate(frames):
        G = ubm.predict_proba(X)
        N[i] = G.sum(axis=0)
        F[i] = (G.T @ X - N[i][:, None] * ubm.means_) / sd
    return N, F


def ivector_posterior(N, F, T):
    """Posterior of each clip's i-vector given its statistics and a total variability.

    Parameters
    ----------
    N : ndarray of shape (n_clips, n_components)
    F : ndarray of shape (n_clips, n_components, n_dims)
    T : ndarray of shape (n_components, n_dims, n_ivector)
        In the whitened units of :func:`frame_statistics`.

    Returns
    -------
    mean : ndarray of shape (n_clips, n_ivector)
    cov : ndarray of shape (n_clips, n_ivector, n_ivector)
    loglik : ndarray of shape (n_clips,)
        Log-likelihood of each clip's statistics up to a constant independent of ``T``.
    """
    K, D, R = T.shape
    P = np.einsum("kdr,kds->krs", T, T).reshape(K, R * R)
    L = (N @ P).reshape(len(N), R, R) + np.eye(R)
    b = F.reshape(len(F), K * D) @ T.reshape(K * D, R)
    cov = np.linalg.inv(L)
    mean = np.einsum("urs,us->ur", cov, b)
    loglik = 0.5 * np.sum(mean * b, axis=1) - 0.5 * np.linalg.slogdet(L)[1]
    return mean, cov, loglik


def em_step(N, F, T):
    """One EM iteration of the total variability: ``(new T, log-likelihood under T)``."""
    K, D, R = T.shape
    C = np.zeros((K * D, R))
    A = np.zeros((K, R * R))
    total = 0.0
    for s in range(0, len(N), _BATCH):
        n, f = N[s : s + _BATCH], F[s : s + _BATCH]
        with _one_thread():  # small batched products: BLAS threads cost 10x on a busy machine
            mean, cov, loglik = ivector_posterior(n, f, T)
        second = cov + mean[:, :, None] * mean[:, None, :]
        C += f.reshape(len(f), K * D).T @ mean
        A += n.T @ second.reshape(len(n), R * R)
        total += float(loglik.sum())
    # T_c = C_c A_c^-1 for every Gaussian (A_c symmetric)
    rhs = C.reshape(K, D, R).transpose(0, 2, 1)
    return np.linalg.solve(A.reshape(K, R, R), rhs).transpose(0, 2, 1), total


def _frames_block(Y, est):
    return est._frames(Y)


@Substitution(**CLIP_FEATURES_DOCS)
class IVectorExtractor(ClipFeaturesMixin, BaseEstimator):
    """Describe each clip by an i-vector: the classical speaker front end, PyTorch-free.

    Kaldi's i-vector recipe in numpy and scikit-learn. Each clip becomes a sequence of
    MFCC frames with their Δ and ΔΔ (``librosa.feature.mfcc`` of the log-mel
    spectrogram); frames more than ``silence_db`` below the clip's loudest are
    dropped, and the clip's mean MFCC is subtracted (so a microphone's colouring
    cancels). :term:`fit` learns a universal background model (a diagonal
    :class:`~sklearn.mixture.GaussianMixture` of ``n_components`` Gaussians over all
    training frames), then a total variability matrix by ``n_iter`` EM iterations: a
    low-rank description of how a clip's frames shift the Gaussians. :term:`transform`
    gives each clip the posterior mean of its ``n_ivector`` coordinates in that
    subspace. The i-vectors then go to a back end such as
    :class:`~sklaudio.speakers.SpeakerVerifier` (whitening, LDA, PLDA).

    Fitting needs no speaker labels; fit it on recordings of speakers other than the
    ones tested, the same recording conditions if possible.

    Parameters
    ----------
    n_components : int, default=128
        Gaussians of the background model.

    n_ivector : int, default=100
        Length of an i-vector (rank of the total variability matrix).

    n_iter : int, default=5
        EM iterations of the total variability matrix.

    max_frames : int, default=200000
        At most this many frames, drawn at random, to fit the background model (the
        total variability uses every clip whole).

    n_mfcc : int, default=20
        MFCCs per frame, before Δ and ΔΔ.

    deltas : {0, 1, 2}, default=2
        Appended derivatives: 1 adds Δ, 2 adds Δ and ΔΔ (5-frame regression).

    silence_db : float > 0, default=30.0
        Frames whose mean log-mel level is more than this below the clip's loudest
        frame are dropped before the statistics.

    {sr}

    n_fft : int, default=512
        FFT length (32 ms at 16 kHz); shorter clips are zero-padded to it.

    hop_length : int, default=160
        Samples between frames (10 ms at 16 kHz).

    n_mels : int, default=40
        Mel bands the MFCCs are computed from.

    fmin : float, default=20.0
        Lowest frequency of the mel filterbank in Hz.

    fmax : float or None, default=None
        Highest frequency in Hz; None means ``sr / 2``.

    random_state : int, RandomState instance or None, default=None
        Controls the frame draw, the background model's initialisation and the
        starting point of the total variability. Pass an int for the same model
        across calls. See :term:`Glossary <random_state>`.

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    ubm_ : GaussianMixture
        The universal background model, over frames of ``n_mfcc * (1 + deltas)``
        values.

    total_variability_ : ndarray of shape (n_components, n_frame_features, n_ivector)
        How each i-vector coordinate shifts each Gaussian's mean, in the frames' units.

    loglik_ : list of float
        Training clips' log-likelihood (up to a constant) before each EM iteration
        of the total variability; it never decreases.

    n_frames_fit_ : int
        Number of frames the background model was fitted on.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    SpeakerVerifier : The back end the i-vectors are scored with.
    sklaudio.features.MelFeatures : MFCC statistics, the simplest classical front end.
    sklaudio.features.SpeakerEmbedding : A trained neural speaker embedding.

    References
    ----------
    N. Dehak, P. Kenny, R. Dehak, P. Dumouchel and P. Ouellet, "Front-end factor
    analysis for speaker verification", IEEE TASLP 19(4), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.speakers import IVectorExtractor
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(8000) / 8000
    >>> X = np.stack([np.sin(2 * np.pi * f * t) + 0.1 * rng.standard_normal(8000)
    ...               for f in (200, 300, 400, 600, 800, 1600)])
    >>> iv = IVectorExtractor(n_components=4, n_ivector=3, n_mfcc=8, n_mels=16, sr=8000,
    ...                       random_state=0).fit(X)
    >>> iv.transform(X).shape
    (6, 3)
    >>> iv.get_feature_names_out().tolist()
    ['ivector_000', 'ivector_001', 'ivector_002']
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_ivector": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "max_frames": [Interval(Integral, 1, None, closed="left")],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "deltas": [Interval(Integral, 0, 2, closed="both")],
        "silence_db": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_components=128,
        n_ivector=100,
        n_iter=5,
        max_frames=200000,
        n_mfcc=20,
        deltas=2,
        silence_db=30.0,
        sr=None,
        n_fft=512,
        hop_length=160,
        n_mels=40,
        fmin=20.0,
        fmax=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_ivector = n_ivector
        self.n_iter = n_iter
        self.max_frames = max_frames
        self.n_mfcc = n_mfcc
        self.deltas = deltas
        self.silence_db = silence_db
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.n_mfcc > self.n_mels:
            raise ValueError(
                f"IVectorExtractor(n_mfcc={self.n_mfcc}) cannot exceed n_mels={self.n_mels}: "
                "the MFCCs are the DCT of the mel bands. Lower n_mfcc or raise n_mels."
            )
        check_mel_band("IVectorExtractor", self.fmin, self.fmax, self.sr_)

    def _feature_names(self):
        w = max(3, len(str(self.n_ivector - 1)))
        return [f"ivector_{k:0{w}d}" for k in range(self.n_ivector)]

    def _frames(self, Y):
        """Kept, mean-normalised MFCC (+ Δ, ΔΔ) frames of each clip of a block."""
        S = power_spectrogram(np.asarray(Y, dtype=np.float64), n_fft=self.n_fft,
                              hop_length=self.hop_length, pad_short=True)
        M = mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
                      fmax=self.fmax)
        L = power_to_db(M, top_db=None)  # (n, n_mels, n_frames)
        out = []
        for Lc in L:
            C = librosa.feature.mfcc(S=Lc, n_mfcc=self.n_mfcc)
            series = [C]
            # librosa's interpolating deltas need at least `width` frames
            mode = "interp" if C.shape[-1] >= 5 else "nearest"
            for order in range(1, self.deltas + 1):
                series.append(librosa.feature.delta(C, width=5, order=order, mode=mode))
            level = Lc.mean(axis=0)
            keep = level >= level.max() - self.silence_db
            Z = np.concatenate(series, axis=0)[:, keep].T
            Z[:, : self.n_mfcc] -= Z[:, : self.n_mfcc].mean(axis=0)
            out.append(Z)
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the background model and the total variability from the clips.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Training clips (a :class:`~sklaudio.utils.ClipArray` carries its ``sr``).

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : IVectorExtractor
            The fitted transformer.
        """
        super().fit(X)  # clips, sampling rate and parameters checked as every extractor's
        clips, is_matrix = validate_clips(self, X, reset=False)
        parts = map_clips(_frames_block, clip_blocks(clips, is_matrix), n_jobs=self.n_jobs,
                          verbose=self.verbose, desc="IVectorExtractor", est=self)
        frames = [Z for part in parts for Z in part]
        rng = check_random_state(self.random_state)
        self._fit_ubm(frames, rng)
        N, F = frame_statistics(self.ubm_, frames)
        T = self._initial_t(N, F, rng)
        self.loglik_ = []
        for _ in range(self.n_iter):
            T, loglik = em_step(N, F, T)
            self.loglik_.append(loglik)
        self.total_variability_ = T * np.sqrt(self.ubm_.covariances_)[:, :, None]
        self._n_features_out = self.n_ivector
        return self

    def _fit_ubm(self, frames, rng):
        pooled = np.concatenate(frames)
        if len(pooled) < self.n_components:
            raise ValueError(
                f"IVectorExtractor(n_components={self.n_components}) needs at least that "
                f"many frames; the {len(frames)} clips gave {len(pooled)} above silence. "
                "Lower n_components, or fit on more or longer clips."
            )
        if len(pooled) > self.max_frames:
            pooled = pooled[np.sort(rng.choice(len(pooled), self.max_frames, replace=False))]
        self.ubm_ = GaussianMixture(
            self.n_components, covariance_type="diag", max_iter=_UBM_ITER, reg_covar=1e-3,
            random_state=rng.randint(np.iinfo(np.int32).max))
        with warnings.catch_warnings():
            # a fixed number of iterations, as Kaldi's recipe: the background model only
            # needs to cover the frames, not to converge to the last decimal
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.ubm_.fit(pooled)
        self.n_frames_fit_ = len(pooled)

    def _initial_t(self, N, F, rng):
        """Starting total variability: principal directions of the clips' mean shifts."""
        K, D = F.shape[1:]
        shifts = (F / np.maximum(N, 1.0)[:, :, None]).reshape(len(F), K * D)
        shifts -= shifts.mean(axis=0)
        k = min(self.n_ivector, *shifts.shape)
        # directions beyond the data's rank start small and random
        T = 1e-3 * rng.standard_normal((K * D, self.n_ivector))
        _, s, Vt = randomized_svd(shifts, k, random_state=rng.randint(np.iinfo(np.int32).max))
        T[:, :k] = Vt.T * (s / np.sqrt(len(F)))
        return T.reshape(K, D, self.n_ivector)

    def _ivectors(self, N, F):
        T = self.total_variability_ / np.sqrt(self.ubm_.covariances_)[:, :, None]
        return np.concatenate([ivector_posterior(N[s : s + _BATCH], F[s : s + _BATCH], T)[0]
                               for s in range(0, len(N), _BATCH)])

    def _extract_block(self, Y):
        return self._ivectors(*frame_statistics(self.ubm_, self._frames(Y)))
