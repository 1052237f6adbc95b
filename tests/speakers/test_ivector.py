"""IVectorExtractor: the posterior against Gaussian conditioning, EM's likelihood and the
subspace it recovers, and speakers told apart on synthetic voices."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from scipy.signal import lfilter
from scipy.stats import multivariate_normal as mvn
from sklearn.mixture import GaussianMixture

from sklaudio.speakers import IVectorExtractor, equal_error_rate
from sklaudio.speakers._ivector import em_step, frame_statistics, ivector_posterior


def _hard_frames(rng, T, n_frames):
    """Frames of one clip, each from a known Gaussian: x = T_c w + unit noise."""
    K, D, R = T.shape
    w = rng.standard_normal(R)
    comp = rng.integers(0, K, n_frames)
    X = np.einsum("tdr,r->td", T[comp], w) + rng.standard_normal((n_frames, D))
    N = np.bincount(comp, minlength=K).astype(float)
    F = np.zeros((K, D))
    np.add.at(F, comp, X)
    return X, comp, N, F, w


def test_posterior_is_gaussian_conditioning():
    # stacking the frames, y = A w + e with A the rows T_c of each frame's Gaussian: the
    # posterior of w is A'(AA' + I)^-1 y, covariance I - A'(AA' + I)^-1 A, and the
    # likelihood N(y; 0, AA' + I) differs from ours by a term free of T
    rng = np.random.default_rng(0)
    T = rng.normal(size=(3, 2, 2))
    X, comp, N, F, _ = _hard_frames(rng, T, 7)
    A, y = T[comp].reshape(-1, 2), X.ravel()
    G = np.linalg.inv(A @ A.T + np.eye(len(y)))
    mean, cov, loglik = ivector_posterior(N[None], F[None], T)
    np.testing.assert_allclose(mean[0], A.T @ G @ y, rtol=1e-10)
    np.testing.assert_allclose(cov[0], np.eye(2) - A.T @ G @ A, rtol=1e-10, atol=1e-12)
    exact = mvn(np.zeros(len(y)), A @ A.T + np.eye(len(y))).logpdf(y)
    free_of_t = -0.5 * y @ y - 0.5 * len(y) * np.log(2 * np.pi)
    assert exact == pytest.approx(loglik[0] + free_of_t, rel=1e-10)


def test_frame_statistics_on_separate_gaussians():
    # Gaussians far apart: every frame's posterior is 1 for its own, so N counts the
    # frames and F sums their whitened offsets
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]])
    comp = rng.integers(0, 3, 300)
    X = centres[comp] + rng.normal(scale=[1.0, 2.0], size=(300, 2))
    ubm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    N, F = frame_statistics(ubm, [X[:100], X[100:]])
    order = np.argmin(np.linalg.norm(ubm.means_[:, None] - centres, axis=2), axis=1)
    for i, part in enumerate((slice(0, 100), slice(100, 300))):
        for k in range(3):
            own = X[part][comp[part] == order[k]]
            assert N[i, k] == pytest.approx(len(own))
            expected = ((own - ubm.means_[k]) / np.sqrt(ubm.covariances_[k])).sum(axis=0)
            np.testing.assert_allclose(F[i, k], expected, atol=1e-8)


def test_em_raises_likelihood_and_finds_the_subspace():
    rng = np.random.default_rng(2)
    T_true = rng.normal(size=(4, 3, 2))
    stats = [_hard_frames(rng, T_true, 40)[2:4] for _ in range(300)]
    N, F = np.array([s[0] for s in stats]), np.array([s[1] for s in stats])
    T = 0.1 * rng.normal(size=(4, 3, 2))
    logliks = []
    for _ in range(40):
        T, loglik = em_step(N, F, T)
        logliks.append(loglik)
    assert np.all(np.diff(logliks) >= -1e-8 * abs(logliks[-1]))
    assert logliks[-1] > logliks[0] + 100
    # T is known up to a rotation of w: compare the column spaces
    angles = subspace_angles(T.reshape(-1, 2), T_true.reshape(-1, 2))
    assert np.max(angles) < 0.1


def _vowel(rng, f0, formants, n, sr):
    """A buzz at ``f0`` (jittered) through resonances at ``formants`` Hz."""
    f = f0 * (1 + 0.02 * rng.standard_normal())
    y = np.sign(np.sin(2 * np.pi * f / sr * np.arange(n))) + 0.05 * rng.standard_normal(n)
    for fc in formants:
        r, theta = 0.97, 2 * np.pi * fc / sr
        y = lfilter([1.0], [1.0, -2 * r * np.cos(theta), r * r], y)
    return y / np.max(np.abs(y))


def _voice(rng, f0, vowels, sr=8000):
    """One second of a synthetic speaker: eight segments of its vowels, in random order.

    A voice needs several sounds: the clip's mean spectrum is removed (as a
    microphone's would be), so what tells voices apart is where their sounds lie
    relative to one another.
    """
    return np.concatenate([_vowel(rng, f0, vowels[k], sr // 8, sr)
                           for k in rng.integers(0, len(vowels), 8)])


def test_clips_of_one_voice_get_close_ivectors():
    rng = np.random.default_rng(3)
    voices = [(rng.uniform(90, 220), rng.uniform([300, 1000, 2200], [800, 1900, 3300],
                                                 size=(3, 3)))
              for _ in range(6)]
    speakers = np.repeat(np.arange(6), 5)
    X = np.stack([_voice(rng, *voices[s]) for s in speakers])
    iv = IVectorExtractor(n_components=4, n_ivector=4, n_mfcc=13, n_mels=24, sr=8000,
                          random_state=0)
    Z = iv.fit_transform(X)
    assert np.all(np.diff(iv.loglik_) >= 0)
    U = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    i, j = np.triu_indices(len(Z), k=1)
    # chance is 0.5
    assert equal_error_rate(speakers[i] == speakers[j], (U @ U.T)[i, j]) < 0.15
    assert iv.total_variability_.shape == (4, 39, 4)


def test_too_few_frames_and_bad_mfcc_count_are_refused():
    X = np.random.default_rng(4).standard_normal((2, 800))
    with pytest.raises(ValueError, match=r"n_components=500\) needs at least that many"):
        IVectorExtractor(n_components=500, sr=8000).fit(X)
    with pytest.raises(ValueError, match=r"n_mfcc=30\) cannot exceed n_mels=20"):
        IVectorExtractor(n_mfcc=30, n_mels=20, sr=8000).fit(X)
