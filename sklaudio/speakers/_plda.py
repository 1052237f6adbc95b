"""Two-covariance PLDA (Brümmer & de Villiers 2010; Sizov et al. 2014), numpy/scipy only.

Model: a speaker's clips ``x = y + e`` with the speaker variable
``y ~ N(mu, B)`` (between-speaker covariance) and the clip noise ``e ~ N(0, W)``
(within-speaker covariance). The verification score of two vectors is the log
likelihood ratio ``log p(x1, x2 | same speaker) - log p(x1) p(x2)``, computed after a
transform that makes ``W`` the identity and ``B`` diagonal.
"""

import numpy as np
from scipy import linalg

__all__ = ["TwoCovariancePLDA"]


class TwoCovariancePLDA:
    """Two-covariance PLDA fitted by EM, scoring pairs by their log likelihood ratio.

    Parameters
    ----------
    n_iter : int, default=10
        EM iterations after the moment estimates (0 keeps the moment estimates).

    reg : float, default=1e-6
        Added to the diagonal of both covariances, relative to their mean variance.

    Attributes
    ----------
    mean_, between_, within_ : ndarray
        ``mu``, ``B`` and ``W`` of the model.
    """

    def __init__(self, *, n_iter=10, reg=1e-6):
        self.n_iter = n_iter
        self.reg = reg

    @classmethod
    def from_params(cls, mean, between, within):
        """A model with given mean and covariances (no fitting)."""
        model = cls()
        model.mean_ = np.asarray(mean, dtype=np.float64)
        model.between_ = np.asarray(between, dtype=np.float64)
        model.within_ = np.asarray(within, dtype=np.float64)
        model._diagonalise()
        return model

    def fit(self, X, labels):
        X = np.asarray(X, dtype=np.float64)
        _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
        k, d = len(counts), X.shape[1]
        sums = np.zeros((k, d))
        np.add.at(sums, inv, X)
        means = sums / counts[:, None]
        mu = X.mean(axis=0)
        resid = X - means[inv]
        W = resid.T @ resid / max(len(X) - k, 1)
        B = np.cov(means.T, bias=True).reshape(d, d)
        for _ in range(self.n_iter):
            W, B, mu = self._em_step(X, inv, counts, sums, W, B, mu)
        scale = self.reg * (np.trace(W) + np.trace(B)) / (2 * d)
        self.mean_ = mu
        self.within_ = W + scale * np.eye(d)
        self.between_ = B + scale * np.eye(d)
        self._diagonalise()
        return self

    def _em_step(self, X, inv, counts, sums, W, B, mu):
        d = X.shape[1]
        eye = np.eye(d)
        Bi = linalg.inv(B + 1e-10 * np.trace(B) / d * eye)
        Wi = linalg.inv(W + 1e-10 * np.trace(W) / d * eye)
        post_mean = np.empty_like(sums)
        post_cov_sum_b = np.zeros((d, d))  # sum over speakers of Cov(y_k)
        post_cov_sum_w = np.zeros((d, d))  # sum over clips of Cov(y_k)
        for n in np.unique(counts):  # speakers with the same clip count share Cov(y_k)
            idx = np.flatnonzero(counts == n)
            C = linalg.inv(Bi + n * Wi)
            post_mean[idx] = (Bi @ mu + sums[idx] @ Wi) @ C  # C, Bi, Wi symmetric
            post_cov_sum_b += len(idx) * C
            post_cov_sum_w += len(idx) * n * C
        k = len(counts)
        mu = post_mean.mean(axis=0)
        B = (post_cov_sum_b + post_mean.T @ post_mean) / k - np.outer(mu, mu)
        resid = X - post_mean[inv]
        W = (resid.T @ resid + post_cov_sum_w) / len(X)
        return (W + W.T) / 2, (B + B.T) / 2, mu

    def _diagonalise(self):
        # B v = psi W v with V' W V = I: after u = V'(x - mu), W = I and B = diag(psi)
        psi, V = linalg.eigh(self.between_, self.within_)
        psi = np.maximum(psi, 0.0)
        self.psi_, self.transform_ = psi, V
        self._a = -0.5 * psi**2 / ((2 * psi + 1) * (psi + 1))
        self._b = psi / (2 * psi + 1)
        self._c = float(np.sum(np.log1p(psi) - 0.5 * np.log1p(2 * psi)))

    def project(self, X):
        """Coordinates in which the within covariance is I and the between one diagonal."""
        return (np.asarray(X, dtype=np.float64) - self.mean_) @ self.transform_

    def score_pairs(self, U1, U2):
        """LLR of aligned rows of projected vectors ``U1[i]``, ``U2[i]``."""
        return ((U1**2 + U2**2) @ self._a + (U1 * U2) @ self._b) + self._c

    def score_matrix(self, U1, U2):
        """LLR of every row of ``U1`` against every row of ``U2`` (projected), column by column."""
        q1 = (U1**2) @ self._a + self._c
        q2 = (U2**2) @ self._a
        Ub = U1 * self._b
        # one matrix-vector product per column, so a column never depends on the others
        return np.stack([q1 + q2[j] + Ub @ U2[j] for j in range(len(U2))], axis=1) \
            if len(U2) else np.empty((len(U1), 0))

    def score_sets(self, M1, n1, M2, n2):
        """LLR that two sets of clips share a speaker, from their projected means and sizes.

        ``M1[i]`` is the mean of ``n1[i]`` projected vectors of one set, ``M2[j]`` of
        ``n2[j]``. Under the model the means are Gaussian with within variance
        ``1 / n`` (the within-set scatter cancels in the ratio), so the LLR is the
        two-clip formula with per-side variances ``psi + 1 / n``. Returns the matrix
        ``(len(M1), len(M2))``, computed column by column.
        """
        psi = self.psi_
        n1 = np.asarray(n1, dtype=np.float64).reshape(-1, 1)
        p1 = psi + 1.0 / n1                      # (n_rows, d) or (1, d)
        Q1 = M1**2
        out = np.empty((len(M1), len(M2)))
        for j in range(len(M2)):
            p2 = psi + 1.0 / float(n2[j])
            det = p1 * p2 - psi**2
            a = 0.5 / p1 - 0.5 * p2 / det        # coefficient of m1^2
            b = 0.5 / p2 - 0.5 * p1 / det        # of m2^2
            c = psi / det                        # of m1 * m2
            const = 0.5 * np.log(p1 * p2 / det)
            m2 = M2[j]
            out[:, j] = np.sum(Q1 * a + (M1 * c) * m2 + (b * m2**2 + const), axis=1)
        return out
