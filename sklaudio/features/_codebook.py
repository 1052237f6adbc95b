"""MelCodebook: a spherical k-means codebook of log-mel patches, learned in fit."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state

from sklaudio.features._accumulate import StatsAccumulator
from sklaudio.features._base import ClipFeaturesMixin, clip_blocks, clip_pieces
from sklaudio.utils._audio import map_clips, resolve_sr, validate_clips
from sklaudio.utils._compat import Interval, StrOptions, _fit_context
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import (
    AMIN,
    check_mel_band,
    frame_count,
    mel_power,
    power_spectrogram,
    power_to_db,
)
from sklaudio.utils._stream import checked_blocks

__all__ = ["MelCodebook"]

_POOLS = ("mean", "std", "max")
# frames per piece of a streamed clip: a piece's spectrum is about 4 MB at n_fft=2048
_STREAM_FRAMES = 256


def _log_mel_block(Y, est):
    return list(est._log_mel(Y))


@Substitution(**CLIP_FEATURES_DOCS)
class MelCodebook(ClipFeaturesMixin, BaseEstimator):
    """Learn a codebook of log-mel patches; describe each clip by how it uses the codewords.

    The unsupervised feature learning of Salamon & Bello (2015) for environmental
    sounds. In :term:`fit`, each training clip's log-mel spectrogram is cut into
    patches of ``patch_frames`` consecutive frames (all ``n_mels`` bands, one patch
    per frame); patches within ``silence_db`` of the clip's loudest patch are
    pooled, each patch's mean level is removed (so the codebook ignores loudness),
    then PCA whitening (:class:`~sklearn.decomposition.PCA`) and spherical k-means
    (:class:`~sklearn.cluster.MiniBatchKMeans` on unit-length vectors) give
    ``n_codewords`` unit-length codewords. :term:`transform` encodes every patch of
    a clip as its rectified cosine similarity to each codeword and summarises each
    codeword's activation over the clip (``pooling``).

    Being learned, the codebook belongs inside the pipeline: in cross-validation it
    is fitted on the training folds only (with any augmented copies).

    Parameters
    ----------
    n_codewords : int, default=500
        Size of the codebook (k of k-means).

    patch_frames : int, default=8
        Frames per patch (8 frames of 512 samples at 22050 Hz: 0.19 s).

    n_mels : int, default=32
        Mel bands of the spectrogram.

    pooling : tuple of {"mean", "std", "max"}, default=("mean", "std", "max")
        Statistics of each codeword's activation over a clip's patches.

    silence_db : float > 0, default=40.0
        Patches whose mean level is more than this below the clip's loudest patch
        are left out of codebook learning (they are still encoded in transform).

    pca_variance : float in (0, 1), default=0.99
        Share of the patches' variance the whitening PCA keeps.

    max_patches : int, default=40000
        At most this many patches, drawn at random, to learn the codebook from.

    {sr}

    n_fft : int, default=2048
        FFT length; shorter clips are zero-padded to it.

    hop_length : int, default=512
        Samples between frames.

    fmin : float, default=0.0
        Lowest frequency of the mel filterbank in Hz.

    fmax : float or None, default=None
        Highest frequency in Hz; None means ``sr / 2``.

    top_db : float or None, default=80.0
        Floor of each clip's log-mel spectrogram, in dB below its maximum.

    random_state : int, RandomState instance or None, default=None
        Controls the random draw of patches, the PCA solver and k-means. Pass an int
        for the same codebook across calls. See :term:`Glossary <random_state>`.

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    pca_ : PCA
        The whitening PCA fitted on the level-normalised patches.

    codebook_ : ndarray of shape (n_codewords, n_components)
        Unit-length codewords in the whitened space.

    n_patches_fit_ : int
        Number of patches the codebook was learned from.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    MelFeatures : Fixed statistics of the log-mel spectrogram (no learning).
    sklearn.cluster.MiniBatchKMeans : The clustering.

    References
    ----------
    J. Salamon and J. P. Bello, "Unsupervised feature learning for urban sound
    classification", ICASSP 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import MelCodebook
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(8000) / 8000
    >>> X = np.stack([np.sin(2 * np.pi * f * t) + 0.1 * rng.standard_normal(8000)
    ...               for f in (200, 400, 800, 1600)])
    >>> cb = MelCodebook(n_codewords=4, sr=8000, n_fft=256, hop_length=128, n_mels=16,
    ...                  random_state=0).fit(X)
    >>> cb.transform(X).shape
    (4, 12)
    >>> cb.get_feature_names_out()[:3].tolist()
    ['codeword_000_mean', 'codeword_000_std', 'codeword_000_max']
    """

    _parameter_constraints: dict = {
        "n_codewords": [Interval(Integral, 1, None, closed="left")],
        "patch_frames": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "pooling": [tuple, list, StrOptions(set(_POOLS))],
        "silence_db": [Interval(Real, 0, None, closed="neither")],
        "pca_variance": [Interval(Real, 0, 1, closed="neither")],
        "max_patches": [Interval(Integral, 1, None, closed="left")],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "top_db": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_codewords=500,
        patch_frames=8,
        n_mels=32,
        pooling=_POOLS,
        silence_db=40.0,
        pca_variance=0.99,
        max_patches=40000,
        sr=None,
        n_fft=2048,
        hop_length=512,
        fmin=0.0,
        fmax=None,
        top_db=80.0,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_codewords = n_codewords
        self.patch_frames = patch_frames
        self.n_mels = n_mels
        self.pooling = pooling
        self.silence_db = silence_db
        self.pca_variance = pca_variance
        self.max_patches = max_patches
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _pools(self):
        pools = (self.pooling,) if isinstance(self.pooling, str) else tuple(self.pooling)
        if not pools or len(set(pools)) != len(pools) or any(p not in _POOLS for p in pools):
            raise ValueError(
                f"MelCodebook(pooling={self.pooling!r}) must be distinct names among "
                f"{_POOLS}, e.g. pooling=('mean', 'max')."
            )
        return pools

    def _check_params(self):
        self._pools()
        check_mel_band("MelCodebook", self.fmin, self.fmax, self.sr_)

    def _feature_names(self):
        w = max(3, len(str(self.n_codewords - 1)))
        return [f"codeword_{k:0{w}d}_{p}" for k in range(self.n_codewords) for p in self._pools()]

    def _log_mel(self, Y):
        S = power_spectrogram(Y, n_fft=self.n_fft, hop_length=self.hop_length, pad_short=True)
        M = mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
                      fmax=self.fmax)
        return power_to_db(M, top_db=self.top_db).astype(np.float64)  # (n, n_mels, n_frames)

    def _patches(self, L):
        """(n_patches, n_mels * patch_frames) patches of one clip's log-mel (n_mels, T)."""
        if L.shape[-1] < self.patch_frames:  # pad a short clip with its own floor
            pad = np.full((L.shape[0], self.patch_frames - L.shape[-1]), L.min())
            L = np.concatenate([L, pad], axis=-1)
        P = np.lib.stride_tricks.sliding_window_view(L, self.patch_frames, axis=-1)
        return P.transpose(1, 0, 2).reshape(P.shape[1], -1)

    def _whiten(self, P):
        Z = self.pca_.transform(P - P.mean(axis=1, keepdims=True))
        return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-8)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the codebook from the patches of the clips.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Training clips (a :class:`~sklaudio.utils.ClipArray` carries its ``sr``).

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : MelCodebook
            The fitted transformer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Learn the codebook and encode the same clips (one spectrogram per clip).

        Equal to ``fit(X).transform(X)``, without computing the spectrograms twice.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Training clips.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        X_new : ndarray of shape (n_clips, n_codewords * len(pooling))
            One row per clip; float32 for a float32 matrix, else float64.
        """
        mels, dtype = self._fit(X)
        return np.asarray([self._encode(L) for L in mels]).astype(dtype, copy=False)

    def _fit(self, X):
        clips, is_matrix = validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller="MelCodebook")
        self._check_params()
        blocks = map_clips(_log_mel_block, clip_blocks(clips, is_matrix), n_jobs=self.n_jobs,
                           verbose=self.verbose, desc="MelCodebook", est=self)
        mels = [L for part in blocks for L in part]
        kept = []
        for L in mels:
            P = self._patches(L)
            level = P.mean(axis=1)
            kept.append(P[level >= level.max() - self.silence_db])
        P = np.concatenate(kept)
        rng = check_random_state(self.random_state)
        if len(P) > self.max_patches:
            P = P[np.sort(rng.choice(len(P), self.max_patches, replace=False))]
        if len(P) < self.n_codewords:
            raise ValueError(
                f"MelCodebook(n_codewords={self.n_codewords}) needs at least that many "
                f"patches to learn from; the {len(mels)} clips gave {len(P)}. Lower "
                "n_codewords or patch_frames, or fit on more or longer clips."
            )
        seed = rng.randint(np.iinfo(np.int32).max)
        # a float n_components also drops the zero-variance directions whitening can't scale
        self.pca_ = PCA(n_components=float(self.pca_variance), whiten=True, random_state=seed)
        self.pca_.fit(P - P.mean(axis=1, keepdims=True))
        Z = self._whiten(P)
        km = MiniBatchKMeans(n_clusters=self.n_codewords, n_init=3, batch_size=4096,
                             random_state=seed).fit(Z)
        C = km.cluster_centers_
        self.codebook_ = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-8)
        self.n_patches_fit_ = len(P)
        self._n_features_out = len(self._feature_names())
        return mels, (clips.dtype if is_matrix else np.float64)

    def _encode(self, L):
        """Pooled codeword activations of one clip's log-mel spectrogram."""
        A = np.maximum(self._whiten(self._patches(L)) @ self.codebook_.T, 0.0)
        funcs = {"mean": np.mean, "std": np.std, "max": np.max}
        return np.stack([funcs[p](A, axis=0) for p in self._pools()], axis=1).ravel()

    def _extract_block(self, Y):
        return np.asarray([self._encode(L) for L in self._log_mel(Y)])

    def _stream_mel(self, clip, floor=None):
        """Mel power (floor None) or floored log-mel of each piece, (n_mels, k) each."""
        for piece, _ in clip_pieces(clip, "MelCodebook", frame_length=self.n_fft,
                                    hop_length=self.hop_length, pad_short=True,
                                    frames_per_chunk=_STREAM_FRAMES):
            S = power_spectrogram(piece[np.newaxis], n_fft=self.n_fft,
                                  hop_length=self.hop_length, center=False)
            M = mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels,
                          fmin=self.fmin, fmax=self.fmax)[0]
            if floor is None:
                yield M
            else:  # power_to_db, with the clip's floor
                yield np.maximum(10.0 * np.log10(np.maximum(AMIN, M)), floor).astype(np.float64)

    def _extract_stream(self, clip):
        """The row of a streamed clip: patches encoded piece by piece, pooled on the way.

        With ``top_db`` the floor is relative to the clip's loudest mel bin, so the clip
        is read twice: once for that maximum, once for the patches.
        """
        n_frames = frame_count(clip.n_samples, frame_length=self.n_fft,
                               hop_length=self.hop_length, pad_short=True)
        if n_frames < self.patch_frames:  # short: padded with its own floor, read whole
            y = np.concatenate(list(checked_blocks(clip, "MelCodebook")))
            return self._extract_block(y[np.newaxis])[0]
        floor = -np.inf
        if self.top_db is not None:
            loudest = max(M.max() for M in self._stream_mel(clip))
            floor = 10.0 * np.log10(max(AMIN, loudest)) - self.top_db
        pools = self._pools()
        acc = StatsAccumulator(pools, (), n_rows=len(self.codebook_))
        carry = np.zeros((self.n_mels, 0))  # the last patch_frames - 1 frames
        for L in self._stream_mel(clip, floor):
            L = np.concatenate([carry, L], axis=1)
            if L.shape[1] >= self.patch_frames:
                acc.update(np.maximum(self._whiten(self._patches(L)) @ self.codebook_.T,
                                      0.0).T)
            carry = L[:, max(0, L.shape[1] - self.patch_frames + 1) :]
        return acc.result().ravel()
