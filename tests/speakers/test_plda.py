"""Two-covariance PLDA against its closed form and against the parameters it came from."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal as mvn

from sklaudio.speakers._plda import TwoCovariancePLDA


def _spd(rng, d, scale):
    A = rng.normal(size=(d, d))
    return scale * (A @ A.T / d + 0.2 * np.eye(d))


def _closed_form_llr(x1, x2, mu, B, W):
    """log p(x1, x2 | same speaker) - log p(x1) - log p(x2), from the joint Gaussian."""
    joint = np.block([[B + W, B], [B, B + W]])
    same = mvn(np.r_[mu, mu], joint).logpdf(np.r_[x1, x2])
    return same - mvn(mu, B + W).logpdf(x1) - mvn(mu, B + W).logpdf(x2)


def test_llr_equals_closed_form():
    rng = np.random.default_rng(1)
    d = 5
    mu, B, W = rng.normal(size=d), _spd(rng, d, 2.0), _spd(rng, d, 0.5)
    plda = TwoCovariancePLDA.from_params(mu, B, W)
    X1, X2 = rng.normal(size=(20, d)) * 2, rng.normal(size=(20, d)) * 2
    ours = plda.score_pairs(plda.project(X1), plda.project(X2))
    ref = [_closed_form_llr(a, b, mu, B, W) for a, b in zip(X1, X2)]
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    # the matrix form gives the same numbers for every combination
    M = plda.score_matrix(plda.project(X1), plda.project(X2))
    np.testing.assert_allclose(M[3, 7], _closed_form_llr(X1[3], X2[7], mu, B, W), rtol=1e-9)
    np.testing.assert_allclose(np.diag(M), ours, rtol=1e-12)


def test_fit_recovers_the_generating_model():
    rng = np.random.default_rng(2)
    d, n_spk, n_clips = 4, 3000, 4
    mu, B, W = rng.normal(size=d), _spd(rng, d, 1.0), _spd(rng, d, 0.7)
    y = rng.multivariate_normal(mu, B, size=n_spk)
    labels = np.repeat(np.arange(n_spk), n_clips)
    X = y[labels] + rng.multivariate_normal(np.zeros(d), W, size=n_spk * n_clips)
    plda = TwoCovariancePLDA().fit(X, labels)
    np.testing.assert_allclose(plda.between_, B, atol=0.1 * np.abs(B).max())
    np.testing.assert_allclose(plda.within_, W, atol=0.05 * np.abs(W).max())
    # its scores on fresh pairs are those of the true model, up to estimation error
    X1, X2 = X[:200:2], X[1:200:2]
    ref = np.array([_closed_form_llr(a, b, mu, B, W) for a, b in zip(X1, X2)])
    ours = plda.score_pairs(plda.project(X1), plda.project(X2))
    assert np.corrcoef(ours, ref)[0, 1] > 0.995
    assert np.abs(ours - ref).mean() < 0.1 * np.abs(ref).mean()


def test_em_beats_moment_estimates_on_few_clips():
    # with 2 clips per speaker the between covariance of the means is inflated by W / 2;
    # EM removes that bias, the moment estimate keeps it (B = I, W = 2 I)
    rng = np.random.default_rng(3)
    d, n_spk = 3, 4000
    labels = np.repeat(np.arange(n_spk), 2)
    X = rng.normal(size=(n_spk, d))[labels] + np.sqrt(2.0) * rng.normal(size=(2 * n_spk, d))
    moment = TwoCovariancePLDA(n_iter=0).fit(X, labels)
    em = TwoCovariancePLDA(n_iter=30).fit(X, labels)
    assert np.abs(np.diag(moment.between_) - 2.0).max() < 0.2  # B + W / 2
    assert np.abs(np.diag(em.between_) - 1.0).max() < 0.15
    assert np.abs(np.diag(em.within_) - 2.0).max() < 0.15


def test_set_llr_equals_closed_form_of_all_clips():
    # n1 enrolment clips against n2 test clips: the LLR from the means and sizes equals
    # log p(all clips | one speaker) - log p(set 1) - log p(set 2) from the joint densities
    rng = np.random.default_rng(4)
    d = 3
    mu, B, W = rng.normal(size=d), _spd(rng, d, 1.5), _spd(rng, d, 0.6)
    plda = TwoCovariancePLDA.from_params(mu, B, W)

    def logp_one_speaker(X):
        n = len(X)
        cov = np.kron(np.ones((n, n)), B) + np.kron(np.eye(n), W)
        return mvn(np.tile(mu, n), cov).logpdf(X.ravel())

    for n1, n2 in [(1, 1), (3, 1), (4, 2)]:
        X1, X2 = rng.normal(size=(n1, d)) + mu, rng.normal(size=(n2, d)) + mu
        ref = logp_one_speaker(np.r_[X1, X2]) - logp_one_speaker(X1) - logp_one_speaker(X2)
        ours = plda.score_sets(plda.project(X1).mean(0, keepdims=True), [n1],
                               plda.project(X2).mean(0, keepdims=True), [n2])[0, 0]
        assert ours == pytest.approx(ref, rel=1e-8, abs=1e-8)
