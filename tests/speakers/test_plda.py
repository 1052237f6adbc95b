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


def _simplified_plda_llr(x1, x2, mu, B, W):
    """LLR in Garcia-Romero & Espy-Wilson's closed form (Interspeech 2011, eqs. 5-8).

    ``score = x1' Q x1 / 2 + x2' Q x2 / 2 + x1' P x2 + const`` with
    ``T = B + W``, ``Q = T^-1 - (T - B T^-1 B)^-1``, ``P = T^-1 B (T - B T^-1 B)^-1``:
    the quadratic form written without the joint density, for B = Phi Phi' of any rank.
    The constant (dropped in the paper) is ``log|T| - log|[[T, B], [B, T]]| / 2``.
    """
    T = B + W
    Ti = np.linalg.inv(T)
    S = np.linalg.inv(T - B @ Ti @ B)
    Q, P = Ti - S, Ti @ B @ S
    const = 0.5 * (np.linalg.slogdet(T)[1] * 2 - np.linalg.slogdet(
        np.block([[T, B], [B, T]]))[1])
    a, b = x1 - mu, x2 - mu
    return 0.5 * a @ Q @ a + 0.5 * b @ Q @ b + a @ P @ b + const


def test_llr_equals_garcia_romero_closed_form_with_low_rank_between():
    # the simplified PLDA (B = Phi Phi' of rank 2 in 5 dimensions) is the two-covariance
    # model with a singular B; our eigen-decomposition must handle it (psi = 0 directions)
    rng = np.random.default_rng(5)
    d = 5
    Phi = rng.normal(size=(d, 2))
    mu, B, W = rng.normal(size=d), Phi @ Phi.T, _spd(rng, d, 0.4)
    plda = TwoCovariancePLDA.from_params(mu, B, W)
    X1, X2 = rng.normal(size=(15, d)) + mu, rng.normal(size=(15, d)) + mu
    ours = plda.score_pairs(plda.project(X1), plda.project(X2))
    ref = [_simplified_plda_llr(a, b, mu, B, W) for a, b in zip(X1, X2)]
    np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-8)
    assert np.sum(plda.psi_ > 1e-9) == 2


def _kaldi_llr(train_mean, n, test, psi):
    """Kaldi's ``PLDA::LogLikelihoodRatio`` (ivector/plda.cc) in the diagonal coordinates.

    Given the mean of ``n`` enrolment vectors, the test vector is Gaussian with mean
    ``n psi / (n psi + 1) * train_mean`` and variance ``1 + psi / (n psi + 1)`` if the
    speaker is the same, mean 0 and variance ``1 + psi`` if not: the LLR is the
    difference of the two log densities (a conditional route, not the joint density).
    """
    mean = n * psi / (n * psi + 1.0) * train_mean
    var = 1.0 + psi / (n * psi + 1.0)
    given = -0.5 * np.sum(np.log(var) + (test - mean) ** 2 / var)
    without = -0.5 * np.sum(np.log(1.0 + psi) + test**2 / (1.0 + psi))
    return given - without


def test_set_llr_equals_kaldi_conditional_form():
    rng = np.random.default_rng(6)
    d = 4
    mu, B, W = rng.normal(size=d), _spd(rng, d, 1.2), _spd(rng, d, 0.5)
    plda = TwoCovariancePLDA.from_params(mu, B, W)
    for n in (1, 3, 10):
        M = plda.project(rng.normal(size=(n, d)) + mu).mean(0, keepdims=True)
        T = plda.project(rng.normal(size=(6, d)) + mu)
        ours = plda.score_sets(M, [n], T, np.ones(len(T)))[0]
        ref = [_kaldi_llr(M[0], n, t, plda.psi_) for t in T]
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def _speechbrain_plda():
    """SpeechBrain's PLDA module (SIDEKIT's code, numpy only), loaded from its file.

    Importing it the usual way runs ``speechbrain/__init__.py``, which needs PyTorch; the
    module itself needs only numpy and scipy, so ``pip install --no-deps speechbrain``
    (a 0.9 MB pure-Python wheel) is enough for this cross-check; the test command installs
    it. Skipped without it, except in CI (CI=true), where its absence is a failure.
    """
    import importlib.util
    import os
    from pathlib import Path

    spec = importlib.util.find_spec("speechbrain")  # locates without importing
    path = None if spec is None else \
        Path(spec.submodule_search_locations[0]) / "processing" / "PLDA_LDA.py"
    if path is None or not path.exists():
        why = "SpeechBrain's PLDA is not installed (pip install --no-deps speechbrain)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why + "; the test command installs it.")
        pytest.skip(why)
    module_spec = importlib.util.spec_from_file_location("_speechbrain_plda", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _stat_object(sb, X, models):
    none = np.array([None] * len(X))
    return sb.StatObject_SB(
        modelset=np.asarray(models, dtype=object),
        segset=np.array([f"seg{i}" for i in range(len(X))], dtype=object),
        start=none, stop=none, stat0=np.ones((len(X), 1)), stat1=X.copy())


@pytest.mark.parametrize("rank", [6, 2])
def test_scores_equal_speechbrain_fast_plda_scoring(rank):
    # SpeechBrain scores a simplified PLDA (eigenvoices F, residual Sigma); with
    # B = F F' and W = Sigma it is our two-covariance model, so the LLRs must agree,
    # also when F has fewer columns than dimensions (B singular)
    sb = _speechbrain_plda()
    rng = np.random.default_rng(7)
    d = 6
    F = rng.normal(size=(d, rank))
    mu, B, W = rng.normal(size=d), F @ F.T, _spd(rng, d, 0.5)
    E, T = rng.normal(size=(7, d)) + mu, rng.normal(size=(9, d)) + mu
    enrol = _stat_object(sb, E, [f"e{i}" for i in range(len(E))])
    test = _stat_object(sb, T, [f"t{i}" for i in range(len(T))])
    ndx = sb.Ndx(models=enrol.modelset, testsegs=test.segset)
    ref = sb.fast_PLDA_scoring(enrol, test, ndx, mu, F, W).scoremat
    plda = TwoCovariancePLDA.from_params(mu, B, W)
    ours = plda.score_matrix(plda.project(E), plda.project(T))
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_fit_reaches_speechbrain_maximum_likelihood_model():
    # two EM algorithms for one likelihood (ours on B and W, SpeechBrain's on a full-rank F
    # with its minimum-divergence step): run long enough, both reach the same estimates.
    # Equal clip counts per speaker, because SpeechBrain keeps the plain mean as mu.
    sb = _speechbrain_plda()
    rng = np.random.default_rng(8)
    d, n_spk, n_clips = 5, 300, 4
    mu, B, W = rng.normal(size=d), _spd(rng, d, 1.0), _spd(rng, d, 0.5)
    labels = np.repeat(np.arange(n_spk), n_clips)
    X = rng.multivariate_normal(mu, B, size=n_spk)[labels] \
        + rng.multivariate_normal(np.zeros(d), W, size=len(labels))
    ref = sb.PLDA(rank_f=d, nb_iter=150)
    ref.plda(_stat_object(sb, X, [f"spk{k}" for k in labels]))
    ours = TwoCovariancePLDA(n_iter=150, reg=0.0).fit(X, labels)
    np.testing.assert_allclose(ours.between_, ref.F @ ref.F.T, atol=1e-6)
    np.testing.assert_allclose(ours.within_, ref.Sigma, atol=1e-6)
    np.testing.assert_allclose(ours.mean_, ref.mean, atol=1e-12)
    # after 10 iterations (our default) they still differ, by less than the sampling error
    short = TwoCovariancePLDA(n_iter=10, reg=0.0).fit(X, labels)
    assert 1e-6 < np.abs(short.between_ - ours.between_).max() < 0.05
