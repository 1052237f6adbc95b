"""Explicit-duration (semi-Markov) decoding of a detector's segment stream.

The hidden truth is a sequence of turns; a turn of class ``c`` lasts ``D`` seconds with
the density ``p_c(D)`` (a mixture of log-normals). Inside a turn of class ``c`` the
detector inserts spurious segments of another class ``o`` at ``rate[o]`` per second,
each lasting ``d`` seconds with the log-normal density ``q_o(d)``. Turns may only change
where the detector's segments change, so the decoder chooses which runs of consecutive
observed segments form one turn, and its class, maximising the joint log-probability of
the whole stream (Viterbi over segment boundaries). Turns cut by the stream's limits or
by a gap use the survival function ``P(D >= d)`` instead of the density.

The kernels are compiled by numba; each stream costs O(n_segments * span * n_classes)
where the span (segments per turn) is bounded by the longest plausible turn.
"""

import math

import numba
import numpy as np

__all__ = ["hsmm_decode"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_NEG = -1e300


@numba.njit(cache=True, nogil=True)
def _log_sf_std(z):
    """log P(Z >= z) for a standard normal, accurate far in the upper tail."""
    if z < 5.0:
        return math.log(0.5 * math.erfc(z / math.sqrt(2.0)))
    # asymptotic series: the upper tail ~ phi(z) / z * (1 - 1/z^2 + 3/z^4)
    return -0.5 * z * z - math.log(z) - _LOG_SQRT_2PI + math.log1p(-1.0 / (z * z) + 3.0 / z**4)


@numba.njit(cache=True, nogil=True)
def _log_turn(d, k, w, m, s, edge):
    """log density (per second) of a turn of class k lasting d, or log survival at an edge."""
    x = math.log(d)
    best = _NEG
    acc = 0.0
    for j in range(w.shape[1]):  # running log-sum-exp over the components
        if not w[k, j] > 0:
            continue
        z = (x - m[k, j]) / s[k, j]
        if edge:
            t = math.log(w[k, j]) + _log_sf_std(z)
        else:
            t = math.log(w[k, j]) - math.log(s[k, j]) - _LOG_SQRT_2PI - 0.5 * z * z - x
        if t > best:
            acc = acc * math.exp(best - t) + 1.0 if best > _NEG else 1.0
            best = t
        else:
            acc += math.exp(t - best)
    if best <= _NEG:
        return _NEG
    return best + math.log(acc)


@numba.njit(cache=True, nogil=True)
def _turn_tables(w, m, sd, x0, dx, n_grid):
    """log turn density (per second) and log survival of every class on a grid of log
    durations ``x0 + i * dx``; looked up (linear interpolation) by the decoder."""
    K = w.shape[0]
    pdf = np.empty((K, n_grid))
    sf = np.empty((K, n_grid))
    for k in range(K):
        for i in range(n_grid):
            d = math.exp(x0 + i * dx)
            pdf[k, i] = _log_turn(d, k, w, m, sd, False)
            sf[k, i] = _log_turn(d, k, w, m, sd, True)
    return pdf, sf


@numba.njit(cache=True, nogil=True)
def _lookup(table, k, x, x0, dx):
    u = (x - x0) / dx
    n = table.shape[1]
    if u <= 0.0:
        return table[k, 0]
    if u >= n - 1:
        return table[k, n - 1]
    i = int(u)
    f = u - i
    return table[k, i] * (1.0 - f) + table[k, i + 1] * f


@numba.njit(cache=True, nogil=True)
def _decode_block(s, e, c, lo, hi, out, pdf, sf, x0, dx, dmax, emit, ok, void, switch,
                  max_span):
    """Viterbi over the segments lo..hi-1 (one gap-free piece of a stream); writes codes."""
    n = hi - lo
    K = pdf.shape[0]
    best = np.full((n + 1, K), _NEG)
    back_a = np.zeros((n + 1, K), dtype=np.int64)
    back_c = np.zeros((n + 1, K), dtype=np.int64)
    # best total ending at boundary a, its class, and the best total of another class
    top1 = np.full(n + 1, _NEG)
    top1_c = np.zeros(n + 1, dtype=np.int64)
    top2 = np.full(n + 1, _NEG)
    top1[0] = 0.0
    top2[0] = 0.0
    emis = np.zeros(K)
    alive = np.zeros(K, dtype=np.bool_)
    for j in range(1, n + 1):
        for k in range(K):
            emis[k] = 0.0
            alive[k] = True
        t_end = e[lo + j - 1]
        for a in range(j - 1, max(-1, j - 1 - max_span), -1):
            i = lo + a
            o = c[i]
            span = t_end - s[i]
            x = math.log(span)
            edge = (a == 0) or (j == n)
            any_alive = False
            for k in range(K):
                if not alive[k]:
                    continue
                if o != k:
                    if not ok[i]:  # too long to be spurious: no turn of k holds it
                        alive[k] = False
                        continue
                    emis[k] += emit[i]
                if j - a > 1 and span > dmax[k]:
                    alive[k] = False
                    continue
                any_alive = True
                prior = _lookup(sf if edge else pdf, k, x, x0, dx)
                sc = emis[k] + prior - void[k] * span
                if a == 0:
                    prev, pc = 0.0, -1
                elif top1_c[a] != k:
                    prev, pc = top1[a] + switch, top1_c[a]
                else:
                    prev, pc = top2[a] + switch, -2  # the best other class, found below
                tot = prev + sc
                if tot > best[j, k]:
                    best[j, k] = tot
                    back_a[j, k] = a
                    back_c[j, k] = pc
            if not any_alive:
                break
        b1, b1c, b2 = _NEG, 0, _NEG
        for k in range(K):
            if best[j, k] > b1:
                b2 = b1
                b1, b1c = best[j, k], k
            elif best[j, k] > b2:
                b2 = best[j, k]
        top1[j], top1_c[j], top2[j] = b1, b1c, b2
    j = n
    k = top1_c[n]
    while j > 0:
        a = back_a[j, k]
        for t in range(a, j):
            out[lo + t] = k
        pc = back_c[j, k]
        if pc == -2:  # the best class at boundary a other than k
            bb, pc = _NEG, 0
            for q in range(K):
                if q != k and best[a, q] > bb:
                    bb, pc = best[a, q], q
        j, k = a, pc
    return top1[n]


@numba.njit(cache=True, nogil=True)
def _decode_all(s, e, c, piece, pdf, sf, x0, dx, dmax, emit, ok, void, switch, max_span):
    out = c.copy()
    total = 0.0
    for p in range(len(piece) - 1):
        total += _decode_block(s, e, c, piece[p], piece[p + 1], out, pdf, sf, x0, dx, dmax,
                               emit, ok, void, switch, max_span)
    return out, total


def hsmm_decode(start, end, code, stream, *, turn_weights, turn_means, turn_stds, rates,
                flip_means, flip_stds, bias=0.0, max_flip=None, max_span=200,
                return_score=False):
    """Most probable class of every segment under the explicit-duration model.

    Parameters
    ----------
    start, end, code, stream : ndarray of shape (n_segments,)
        Joined segments (touching segments of one class already merged), streams
        contiguous and sorted.

    turn_weights, turn_means, turn_stds : ndarray of shape (n_classes, n_components)
        Log-normal mixture of each class's turn durations (log seconds); a weight of 0
        or NaN marks an absent component.

    rates : ndarray of shape (n_classes,)
        Spurious segments of each class per second of another class's turn; 0 means the
        class is never spurious.

    flip_means, flip_stds : ndarray of shape (n_classes,)
        Log-normal duration of each class's spurious segments (log seconds).

    bias : float, default=0.0
        Added to the log-probability of each spurious segment (positive relabels more).

    max_flip : ndarray of shape (n_classes,), default=None
        Segments of a class lasting this long (seconds) or longer are never spurious;
        None: no limit.

    max_span : int, default=200
        At most this many observed segments form one turn.

    return_score : bool, default=False
        Also return the log-probability of the decoded stream (summed over streams).

    Returns
    -------
    code : ndarray of shape (n_segments,)
        The decoded classes.

    score : float
        Only with ``return_score``.
    """
    n_classes = turn_weights.shape[0]
    n = len(start)
    rates = np.asarray(rates, dtype=float)
    if n == 0 or (not (rates > 0).any() and not return_score):
        return (code.copy(), 0.0) if return_score else code.copy()
    w = np.nan_to_num(np.asarray(turn_weights, dtype=float), nan=0.0)
    m = np.nan_to_num(np.asarray(turn_means, dtype=float), nan=0.0)
    sd = np.nan_to_num(np.asarray(turn_stds, dtype=float), nan=1.0)
    fm = np.nan_to_num(np.asarray(flip_means, dtype=float), nan=0.0)
    fs = np.nan_to_num(np.asarray(flip_stds, dtype=float), nan=1.0)
    # longest plausible turn per class: 5 standard deviations above its longest component
    reach = np.where(w > 0, m + 5 * sd, -np.inf).max(axis=1)
    span_all = np.log(float(np.max(end) - np.min(start)) + 1.0)
    reach = np.where(np.isfinite(reach), reach, span_all)  # a class without a turn model
    dmax = np.exp(np.minimum(reach, 700.0))
    # each segment's log-probability as a spurious segment of its own class; beyond
    # 3.5 standard deviations of the spurious durations it cannot be one
    start = np.ascontiguousarray(start, dtype=float)
    end = np.ascontiguousarray(end, dtype=float)
    code64 = np.ascontiguousarray(code, dtype=np.int64)
    ld = np.log(end - start)
    z = (ld - fm[code64]) / fs[code64]
    rate = rates[code64]
    ok = (rate > 0) & (z <= 3.5)
    if max_flip is not None:
        ok &= (end - start) < np.asarray(max_flip, dtype=float)[code64]
    emit = np.where(ok, np.log(np.where(rate > 0, rate, 1.0)) - np.log(fs[code64])
                    - _LOG_SQRT_2PI - 0.5 * z * z - ld + bias, _NEG)
    void = rates.sum() - rates  # no spurious segment of another class inside a turn
    switch = -np.log(n_classes - 1) if n_classes > 2 else 0.0
    # prior tables on log durations from the shortest segment to the longest turn
    x0 = float(min(ld.min(), np.log(dmax).min())) - 1.0
    x1 = float(max(np.log(end.max() - start.min() + 1.0), np.log(dmax).max())) + 1.0
    n_grid = 4096
    dx = (x1 - x0) / (n_grid - 1)
    pdf, sf = _turn_tables(w, m, sd, x0, dx, n_grid)
    # pieces: streams, further cut at gaps (a gap ends a turn)
    cut = np.r_[True, (stream[1:] != stream[:-1]) | (start[1:] != end[:-1])]
    piece = np.r_[np.flatnonzero(cut), n].astype(np.int64)
    out, score = _decode_all(start, end, code64, piece, pdf, sf, x0, dx, dmax, emit, ok, void,
                             float(switch), int(max_span))
    out = out.astype(np.intp)
    return (out, float(score)) if return_score else out
