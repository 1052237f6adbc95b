"""Probabilistic YIN (pyin), computed fast: the model of :func:`librosa.pyin`.

:func:`estimate_f0` follows the model of :func:`librosa.pyin` (Mauch & Dixon's
probabilistic YIN: a beta prior over YIN thresholds, a Boltzmann prior over troughs,
and an HMM over pitch bins x {voiced, unvoiced} decoded by Viterbi), but computes it
differently:

- the difference function of all frames comes from batched real FFTs;
- trough probabilities are computed in one compiled pass over the frames;
- the Viterbi decoder never builds the dense (2 * n_bins) ** 2 transition matrix.
  Within a voicing state the transition matrix is a narrow triangular band, and a
  voiced state can only be on the best path where the frame has a candidate trough
  (elsewhere its observation probability is zero), so voiced states are decoded
  sparsely and unvoiced ones over the band only.

``benchmarks/bench_f0.py`` measures its speed and agreement with ``librosa.pyin``.
The kernels are compiled by numba once per process and not cached on disk
(``cache=False``): processes that fill a shared cache at the same time can corrupt it.
"""

import warnings
from numbers import Integral, Real

import numba
import numpy as np
import scipy.fft
import scipy.stats
from scipy.signal import get_window

from sklaudio.exceptions import AudioWarning
from sklaudio.utils._compat import Interval, StrOptions, validate_params
from sklaudio.utils._dsp import frame

__all__ = ["estimate_f0"]

# pyin's pitch grid: 0.1 semitone per bin (librosa's default resolution)
_BINS_PER_SEMITONE = 10
# Bytes of one block's FFT input (frames per block: this over the FFT's length in
# float64), so that each of the block's arrays fits in a core's cache: F0Stats took
# 15-20 % more CPU on LibriSpeech with 512 frames a block (7 MB at 16 kHz), same bits.
_BLOCK_BYTES = 1 << 20

# librosa.pyin's defaults for the model (estimate_f0's defaults, and F0Stats' settings)
N_THRESHOLDS = 100  # YIN thresholds between 0 and 1
BETA_PARAMETERS = (2, 18)  # beta prior over the thresholds
BOLTZMANN_PARAMETER = 2.0  # prior favouring shorter periods among troughs
MAX_TRANSITION_RATE = 35.92  # octaves per second
SWITCH_PROB = 0.01  # voiced <-> unvoiced, per frame
NO_TROUGH_PROB = 0.01  # mass of the global minimum when no trough is below a threshold


# --------------------------------------------------------------------------- YIN
def _fft_length(frame_length, max_period):
    # linear (not circular) autocorrelation up to max_period needs n + max_period points
    return scipy.fft.next_fast_len(frame_length + max_period + 1, real=True)


def _frames_per_block(frame_length, max_period):
    """Frames whose FFTs are computed together (see ``_BLOCK_BYTES``)."""
    return max(16, _BLOCK_BYTES // (8 * _fft_length(frame_length, max_period)))


def _cmnd(frames, min_period, max_period):
    """Cumulative mean normalised difference (YIN eq. 8) of every frame at once.

    Same definition as librosa 0.11 (difference from the autocorrelation and the
    energy of the frame's head), shape (n_frames, max_period - min_period + 1).
    """
    n_fft = _fft_length(frames.shape[1], max_period)
    spec = scipy.fft.rfft(frames, n=n_fft, axis=-1)
    acf = scipy.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=-1)[:, : max_period + 1]
    head_energy = np.cumsum(np.square(frames[:, :max_period]), axis=-1)
    diff = 2.0 * (acf[:, :1] - acf[:, 1:]) - head_energy  # lags 1..max_period
    cum_mean = np.cumsum(diff, axis=-1) / np.arange(1, max_period + 1)
    den = cum_mean[:, min_period - 1 :]
    return np.ascontiguousarray(diff[:, min_period - 1 :] / (den + np.finfo(den.dtype).tiny))


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _troughs(x, out):  # pragma: no cover - compiled
    """Indices of the local minima of one YIN curve into ``out``; returns their count."""
    n = x.shape[0]
    k = 0
    if n > 1 and x[0] < x[1]:
        out[k] = 0
        k += 1
    for i in range(1, n - 1):
        if x[i] < x[i - 1] and x[i] <= x[i + 1]:
            out[k] = i
            k += 1
    if n > 1 and x[n - 1] < x[n - 2]:
        out[k] = n - 1
        k += 1
    return k


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _trough_probs(x, trough, k, thresholds, beta_probs, decay, norm, no_trough_prob,
                  prob):  # pragma: no cover - compiled
    """Probability mass of each of the ``k`` troughs of ``x`` into ``prob[:k]``.

    Each threshold's beta mass goes to the troughs below it by a Boltzmann pmf over
    their rank; thresholds under which no trough lies give their mass (times
    ``no_trough_prob``) to the global minimum.
    """
    for a in range(k):
        prob[a] = 0.0
    for j in range(thresholds.shape[0]):
        thr = thresholds[j]
        n_below = 0
        for a in range(k):
            if x[trough[a]] < thr:
                n_below += 1
        if n_below == 0:
            continue
        scale = beta_probs[j] * norm[n_below]
        rank = 0
        for a in range(k):
            if x[trough[a]] < thr:
                prob[a] += scale * decay[rank]
                rank += 1
    g = 0
    for a in range(1, k):
        if x[trough[a]] < x[trough[g]]:
            g = a
    extra = 0.0
    for j in range(thresholds.shape[0]):
        if not x[trough[g]] < thresholds[j]:
            extra += beta_probs[j]
    prob[g] += no_trough_prob * extra


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _trough_bin(x, i, min_period, sr, fmin, n_bins):  # pragma: no cover - compiled
    """Pitch bin of trough ``i`` after parabolic refinement; ``n_bins`` if above the grid."""
    n = x.shape[0]
    shift = 0.0
    if 0 < i < n - 1:
        curv = x[i + 1] + x[i - 1] - 2.0 * x[i]
        slope = 0.5 * (x[i + 1] - x[i - 1])
        if abs(slope) < abs(curv):
            shift = -slope / curv
    f0 = sr / (min_period + i + shift)
    b = np.rint(12.0 * _BINS_PER_SEMITONE * np.log2(f0 / fmin))
    return int(min(max(b, 0.0), float(n_bins)))


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _frame_candidates(x, trough, prob, k, min_period, sr, fmin, n_bins, bins_out,
                      probs_out):  # pragma: no cover - compiled
    """Merge one frame's troughs into distinct pitch bins; returns (count, total mass)."""
    m = 0
    total = 0.0
    for a in range(k):
        if prob[a] == 0.0:
            continue
        b = _trough_bin(x, trough[a], min_period, sr, fmin, n_bins)
        if b == n_bins:  # above the grid: pyin drops it
            continue
        # two troughs in one bin: the later (longer period) one wins, as in pyin
        found = False
        for c in range(m):
            if bins_out[c] == b:
                total -= probs_out[c]
                probs_out[c] = prob[a]
                found = True
                break
        if not found:
            bins_out[m] = b
            probs_out[m] = prob[a]
            m += 1
        total += prob[a]
    return m, total


@numba.njit(cache=False, nogil=True)
def _candidates(yin, thresholds, beta_probs, boltzmann, no_trough_prob, min_period, sr,
                fmin, n_bins):  # pragma: no cover - compiled
    """Pitch-bin candidates and their observation probabilities, per frame.

    For each frame: the troughs of the YIN curve, the probability mass each receives
    from the thresholds it lies below (beta prior over thresholds, Boltzmann prior
    favouring short periods), parabolic refinement of its period, and its pitch bin.
    Returns bins and probabilities (n_frames, max_candidates), the count per frame,
    and the voiced probability (their sum, clipped to [0, 1]).
    """
    n_frames, n_lags = yin.shape
    width = n_lags // 2 + 2
    cand_bin = np.zeros((n_frames, width), dtype=np.int32)
    cand_prob = np.zeros((n_frames, width), dtype=np.float64)
    n_cand = np.zeros(n_frames, dtype=np.int32)
    voiced_prob = np.zeros(n_frames, dtype=np.float64)
    trough = np.empty(n_lags, dtype=np.int64)
    prob = np.empty(n_lags, dtype=np.float64)
    # Boltzmann pmf of rank r among n troughs: decay[r] * (1 - e^-b) / (1 - e^-bn)
    decay = np.exp(-boltzmann * np.arange(n_lags + 1))
    norm = np.zeros(n_lags + 1)
    for n in range(1, n_lags + 1):
        norm[n] = (1.0 - decay[1]) / (1.0 - decay[n])
    for f in range(n_frames):
        x = yin[f]
        k = _troughs(x, trough)
        if k == 0:
            continue
        _trough_probs(x, trough, k, thresholds, beta_probs, decay, norm, no_trough_prob, prob)
        m, total = _frame_candidates(x, trough, prob, k, min_period, sr, fmin, n_bins,
                                     cand_bin[f], cand_prob[f])
        n_cand[f] = m
        voiced_prob[f] = min(max(total, 0.0), 1.0)
    return cand_bin, cand_prob, n_cand, voiced_prob


# ----------------------------------------------------------------------- Viterbi
def _log_band(n_bins, half_width, switch_prob):
    """Log transition probabilities within and across voicing, as (n_bins, 2*hw+1) bands.

    Row i, column hw + d holds log p(bin i -> bin i + d): pyin's triangular window,
    row-normalised over the bins that exist (librosa.sequence.transition_local with
    wrap=False), times 1 - switch_prob (same voicing) or switch_prob (switch).
    Entries outside the grid are -inf.
    """
    width = 2 * half_width + 1
    window = get_window("triangle", width, fftbins=False)
    offsets = np.arange(-half_width, half_width + 1)
    targets = np.arange(n_bins)[:, None] + offsets
    inside = (targets >= 0) & (targets < n_bins)
    band = np.where(inside, window, 0.0)
    band /= band.sum(axis=1, keepdims=True)
    tiny = np.finfo(np.float64).tiny
    with np.errstate(divide="ignore"):
        stay = np.where(inside, np.log((1.0 - switch_prob) * band + tiny), -np.inf)
        switch = np.where(inside, np.log(switch_prob * band + tiny), -np.inf)
    return np.ascontiguousarray(stay), np.ascontiguousarray(switch)


@numba.njit(cache=False, nogil=True)
def _band_argmax(v, log_band, n, hw, out_best, out_arg, stack):  # pragma: no cover
    """For each j, max and first argmax over |i - j| <= hw of v[i] + log_band[i, j - i + hw].

    log_band[i, hw + d] is concave in d (log of a triangle, row offsets aside), so
    the first argmax is non-decreasing in j (a Monge matrix): solve the middle row
    over the allowed range, then each half over the part of the range left to it.
    """
    top = 0
    stack[0, 0] = 0
    stack[0, 1] = n - 1
    stack[0, 2] = 0
    stack[0, 3] = n - 1
    top = 1
    while top > 0:
        top -= 1
        jlo = stack[top, 0]
        jhi = stack[top, 1]
        ilo = stack[top, 2]
        ihi = stack[top, 3]
        if jlo > jhi:
            continue
        j = (jlo + jhi) // 2
        lo = max(ilo, j - hw)
        hi = min(ihi, j + hw)
        best = -np.inf
        arg = lo
        for i in range(lo, hi + 1):
            val = v[i] + log_band[i, j - i + hw]
            if val > best:
                best = val
                arg = i
        out_best[j] = best
        out_arg[j] = arg
        stack[top, 0] = jlo
        stack[top, 1] = j - 1
        stack[top, 2] = ilo
        stack[top, 3] = arg
        stack[top + 1, 0] = j + 1
        stack[top + 1, 1] = jhi
        stack[top + 1, 2] = arg
        stack[top + 1, 3] = ihi
        top += 2


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _best_previous(v_v, prev_bins, n_prev, v_v_floor, v_u, n_bins):  # pragma: no cover
    """Best previous state overall (value, state): the source of out-of-band moves."""
    best_prev = -np.inf
    best_state = 0
    for c in range(n_prev):
        b = prev_bins[c]
        if v_v[b] > best_prev or (v_v[b] == best_prev and b < best_state):
            best_prev = v_v[b]
            best_state = b
    if v_v_floor > best_prev:
        best_prev = v_v_floor
        best_state = 0
    for j in range(n_bins):
        if v_u[j] > best_prev:
            best_prev = v_u[j]
            best_state = n_bins + j
    return best_prev, best_state


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _sorted_bins(prev_bins, n_prev, order):  # pragma: no cover - compiled
    """``prev_bins[:n_prev]`` in increasing order into ``order`` (insertion sort: few)."""
    for c in range(n_prev):
        order[c] = prev_bins[c]
    for c in range(1, n_prev):
        key = order[c]
        d = c - 1
        while d >= 0 and order[d] > key:
            order[d + 1] = order[d]
            d -= 1
        order[d + 1] = key


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _unvoiced_step(v_u, v_v, order, n_prev, log_stay, log_switch, lu, fallback, best_state,
                   n_bins, hw, stay_best, stay_arg, switch_best, switch_arg, stack, v_u_new,
                   ptr_t):  # pragma: no cover - compiled
    """Values and back-pointers of the unvoiced states at one frame.

    Staying unvoiced is a max-plus convolution of ``v_u`` with the log-triangle band:
    the band is concave, so the best predecessor moves monotonically with the state
    and divide and conquer finds it in O(n log n). Switching comes from the previous
    voiced candidates, visited in increasing bin order so that ties keep the lowest
    state.
    """
    _band_argmax(v_u, log_stay, n_bins, hw, stay_best, stay_arg, stack)
    for j in range(n_bins):
        switch_best[j] = -np.inf
    for c in range(n_prev):
        i = order[c]
        for j in range(max(0, i - hw), min(n_bins, i + hw + 1)):
            val = v_v[i] + log_switch[i, j - i + hw]
            if val > switch_best[j]:
                switch_best[j] = val
                switch_arg[j] = i
    for j in range(n_bins):
        best = switch_best[j]
        arg = switch_arg[j]
        if stay_best[j] > best:
            best = stay_best[j]
            arg = n_bins + stay_arg[j]
        if fallback > best:
            best = fallback
            arg = best_state
        v_u_new[j] = best + lu
        ptr_t[n_bins + j] = arg


@numba.njit(cache=False, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _voiced_step(v_u, v_v, order, n_prev, bins, logp, m, log_stay, log_switch, fallback,
                 best_state, n_bins, hw, v_v_new, ptr_t):  # pragma: no cover - compiled
    """Values and back-pointers of this frame's ``m`` voiced candidates."""
    for c in range(m):
        j = bins[c]
        best = -np.inf
        arg = -1
        for e in range(n_prev):
            i = order[e]
            d = j - i
            if -hw <= d <= hw:
                val = v_v[i] + log_stay[i, d + hw]
                if val > best:
                    best = val
                    arg = i
        for i in range(max(0, j - hw), min(n_bins - 1, j + hw) + 1):
            val = v_u[i] + log_switch[i, j - i + hw]
            if val > best:
                best = val
                arg = n_bins + i
        if fallback > best:
            best = fallback
            arg = best_state
        v_v_new[j] = best + logp[c]
        ptr_t[j] = arg


@numba.njit(cache=False, nogil=True)
def _viterbi_start(cand_bin, cand_logp, n_cand, log_unvoiced, log_init, v_u, v_v, prev_bins,
                   carry):  # pragma: no cover - compiled
    """The decoder's state after frame 0 (uniform initial state) into the arrays given.

    ``carry`` holds ``[v_v_floor, n_prev]``: the value of a voiced state that is not a
    candidate (reachable only by the fallback) and the number of live voiced states.
    """
    v_u[:] = log_unvoiced[0] + log_init
    v_v[:] = -np.inf  # voiced values; finite only at this frame's candidates
    n_prev = n_cand[0]
    for c in range(n_prev):
        v_v[cand_bin[0, c]] = cand_logp[0, c] + log_init
        prev_bins[c] = cand_bin[0, c]
    carry[0] = np.log(np.finfo(np.float64).tiny) + log_init
    carry[1] = n_prev


@numba.njit(cache=False, nogil=True)
def _viterbi_forward(cand_bin, cand_logp, n_cand, log_unvoiced, log_stay, log_switch, n_bins,
                     half_width, v_u, v_v, prev_bins, carry, first,
                     ptr):  # pragma: no cover - compiled
    """Advance the decoder over frames ``first, first + 1, ...`` of the arrays given.

    ``v_u``, ``v_v``, ``prev_bins`` and ``carry`` hold the state after the frame
    before ``first`` and are updated in place; ``ptr[t]`` receives frame ``t``'s
    back-pointers. Called once over a whole clip, or chunk after chunk of a long one:
    the arithmetic is the same, so the values are too.
    """
    n_frames = n_cand.shape[0]
    v_u_new = np.empty(n_bins)
    v_v_new = np.full(n_bins, -np.inf)
    order = np.empty(prev_bins.shape[0], dtype=np.int64)
    log_tiny = np.log(np.finfo(np.float64).tiny)
    stay_best, switch_best = np.empty(n_bins), np.empty(n_bins)
    stay_arg, switch_arg = np.empty(n_bins, dtype=np.int64), np.zeros(n_bins, dtype=np.int64)
    stack = np.empty((4 * n_bins + 8, 4), dtype=np.int64)
    v_v_floor = carry[0]
    n_prev = int(carry[1])
    for t in range(first, n_frames):
        best_prev, best_state = _best_previous(v_v, prev_bins, n_prev, v_v_floor, v_u, n_bins)
        fallback = best_prev + log_tiny
        _sorted_bins(prev_bins, n_prev, order)
        _unvoiced_step(v_u, v_v, order, n_prev, log_stay, log_switch, log_unvoiced[t],
                       fallback, best_state, n_bins, half_width, stay_best, stay_arg,
                       switch_best, switch_arg, stack, v_u_new, ptr[t])
        m = n_cand[t]
        _voiced_step(v_u, v_v, order, n_prev, cand_bin[t], cand_logp[t], m, log_stay,
                     log_switch, fallback, best_state, n_bins, half_width, v_v_new, ptr[t])
        v_v_floor = best_prev + log_tiny  # a non-candidate voiced state, at best
        for c in range(n_prev):
            v_v[prev_bins[c]] = -np.inf
        for c in range(m):
            b = cand_bin[t, c]
            v_v[b] = v_v_new[b]
            v_v_new[b] = -np.inf
            prev_bins[c] = b
        n_prev = m
        for j in range(n_bins):
            v_u[j] = v_u_new[j]
    carry[0] = v_v_floor
    carry[1] = n_prev


@numba.njit(cache=False, nogil=True)
def _final_state(v_v, prev_bins, carry, v_u, n_bins):  # pragma: no cover - compiled
    """The best state at the last frame (voiced first, as in the dense decoder)."""
    return _best_previous(v_v, prev_bins, int(carry[1]), -np.inf, v_u, n_bins)[1]


@numba.njit(cache=False, nogil=True)
def _traceback(ptr, last, state, states):  # pragma: no cover - compiled
    """``states[t]`` for t = last, last - 1, ..., 0 from ``state`` at frame ``last``."""
    states[last] = state
    for t in range(last, 0, -1):
        states[t - 1] = ptr[t, states[t]]


@numba.njit(cache=False, nogil=True)
def _merge_point(ptr, last, v_v, prev_bins, carry, n_bins):  # pragma: no cover - compiled
    """Latest frame ``tau < last`` where every path still open at ``last`` goes through
    one state; returns ``(tau, state)``, or ``(-1, -1)`` when they have not merged.

    The open paths end at the states a later frame can come from: every unvoiced
    state, this frame's voiced candidates, and voiced bin 0 when only the fallback
    is left. Where they all meet, the best path of the whole clip meets them too,
    whatever comes later, so the frames up to ``tau`` are decided for good.
    """
    n_states = 2 * n_bins
    cur = np.empty(n_states, dtype=np.int64)
    nxt = np.empty(n_states, dtype=np.int64)
    seen = np.full(n_states, -1, dtype=np.int64)
    k = 0
    n_prev = int(carry[1])
    best = -np.inf
    for c in range(n_prev):
        cur[k] = prev_bins[c]
        best = max(best, v_v[prev_bins[c]])
        k += 1
    for j in range(n_bins):
        cur[k] = n_bins + j
        k += 1
    if carry[0] > best:  # the fallback's state may come from a non-candidate
        cur[k] = 0
        k += 1
    for t in range(last, 0, -1):
        m = 0
        for a in range(k):
            s = ptr[t, cur[a]]
            if seen[s] != t:
                seen[s] = t
                nxt[m] = s
                m += 1
        if m == 1:
            return t - 1, nxt[0]
        for a in range(m):
            cur[a] = nxt[a]
        k = m
    return -1, -1


def _viterbi(cand_bin, cand_logp, n_cand, log_unvoiced, log_stay, log_switch, log_init,
             n_bins, half_width):
    """Most likely state sequence of pyin's HMM, decoded over the band only.

    States are 0..n_bins-1 (voiced, one per pitch bin) and n_bins..2*n_bins-1
    (unvoiced, with the pitch bin they remember). A voiced state's observation
    probability is zero unless the frame has a candidate in its bin, so only those
    voiced states are tracked; unvoiced states all share one observation
    probability. A transition outside the band has probability zero, which
    librosa's dense decoder scores as log(tiny): that is kept as a fallback from
    the best previous state so that decisions match even in degenerate frames.
    Ties go to the lowest state index, like numpy's argmax.
    """
    n_frames = n_cand.shape[0]
    # int16 back-pointers: 2 * n_bins < 2 ** 15 for any feasible fmin/fmax (they
    # dominate memory on long clips: 4 * n_bins bytes per frame)
    ptr = np.zeros((n_frames, 2 * n_bins), dtype=np.int16)
    v_u, v_v = np.empty(n_bins), np.empty(n_bins)
    prev_bins, carry = np.empty(cand_bin.shape[1], dtype=np.int64), np.zeros(2)
    _viterbi_start(cand_bin, cand_logp, n_cand, log_unvoiced, log_init, v_u, v_v, prev_bins,
                   carry)
    _viterbi_forward(cand_bin, cand_logp, n_cand, log_unvoiced, log_stay, log_switch, n_bins,
                     half_width, v_u, v_v, prev_bins, carry, 1, ptr)
    states = np.empty(n_frames, dtype=np.int32)
    _traceback(ptr, n_frames - 1, _final_state(v_v, prev_bins, carry, v_u, n_bins), states)
    return states


# ------------------------------------------------------------------- functional
def _check_f0_params(sr, fmin, fmax, frame_length):
    """Raise a ValueError naming the parameter when pyin's constraints do not hold."""
    if fmin >= fmax:
        raise ValueError(f"fmin={fmin} must be less than fmax={fmax}.")
    if fmax > sr / 2:
        raise ValueError(
            f"fmax={fmax} exceeds the Nyquist frequency {sr / 2} of sr={sr}; lower fmax."
        )
    if sr / fmin >= frame_length - 1:
        raise ValueError(
            f"fmin={fmin} is too low for frame_length={frame_length} at sr={sr}: one period "
            f"({sr / fmin:.1f} samples) must fit in a frame. Raise fmin to at least "
            f"{sr / (frame_length - 1):.3f} or frame_length to {int(np.ceil(sr / fmin) + 2)}."
        )
    if sr / fmin >= frame_length // 2:
        warnings.warn(
            f"With fmin={fmin}, sr={sr} and frame_length={frame_length}, fewer than two "
            "periods of fmin fit in a frame, which makes low pitches unreliable. Use "
            f"frame_length >= {int(np.ceil(sr / fmin) * 2 + 1)}.",
            AudioWarning,
            stacklevel=3,
        )



class _Model:
    """pyin's fixed quantities for one set of parameters: the YIN lag range, the
    threshold prior, the pitch grid and the log transition bands."""

    def __init__(self, *, sr, fmin, fmax, frame_length, hop_length, n_thresholds,
                 beta_parameters, boltzmann_parameter, max_transition_rate, switch_prob,
                 no_trough_prob):
        self.sr, self.fmin = float(sr), float(fmin)
        self.min_period = int(np.floor(sr / fmax))
        self.max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
        thresholds = np.linspace(0, 1, n_thresholds + 1)
        self.thresholds = thresholds[1:]
        self.beta_probs = np.diff(scipy.stats.beta.cdf(thresholds, *beta_parameters))
        self.boltzmann = float(boltzmann_parameter)
        self.no_trough_prob = float(no_trough_prob)
        self.n_bins = n_bins = int(np.floor(12 * _BINS_PER_SEMITONE * np.log2(fmax / fmin))) + 1
        # most candidates a frame can have (the width _candidates allocates)
        self.max_candidates = (self.max_period - self.min_period + 1) // 2 + 2
        max_semitones = round(max_transition_rate * 12 * hop_length / sr)
        self.half_width = min((max_semitones * _BINS_PER_SEMITONE + 1) // 2, n_bins - 1)
        self.log_stay, self.log_switch = _log_band(n_bins, self.half_width, switch_prob)
        self.log_init = float(np.log(1.0 / (2 * n_bins) + np.finfo(np.float64).tiny))
        self.freqs = fmin * 2.0 ** (np.arange(n_bins) / (12 * _BINS_PER_SEMITONE))

    def observations(self, frames):
        """Candidates of each frame: (cand_bin, cand_logp, n_cand, voiced_prob, log_unvoiced).

        Blocks of frames bound the FFT's memory; only the (few) candidates of each
        frame are kept.
        """
        blocks = []
        step = _frames_per_block(frames.shape[1], self.max_period)
        for start in range(0, len(frames), step):
            yin = _cmnd(frames[start : start + step], self.min_period, self.max_period)
            bins, probs, counts, vprob = _candidates(
                yin, self.thresholds, self.beta_probs, self.boltzmann, self.no_trough_prob,
                self.min_period, self.sr, self.fmin, self.n_bins,
            )
            width = max(1, counts.max())
            blocks.append((bins[:, :width], probs[:, :width], counts, vprob))
        width = max(b[0].shape[1] for b in blocks)
        pad = [((0, 0), (0, width - b[0].shape[1])) for b in blocks]
        cand_bin = np.concatenate([np.pad(b[0], p) for b, p in zip(blocks, pad)])
        cand_prob = np.concatenate([np.pad(b[1], p) for b, p in zip(blocks, pad)])
        n_cand = np.concatenate([b[2] for b in blocks])
        voiced_prob = np.concatenate([b[3] for b in blocks])
        tiny = np.finfo(np.float64).tiny
        cand_logp = np.log(cand_prob + tiny)
        log_unvoiced = np.log((1.0 - voiced_prob) / self.n_bins + tiny)
        return cand_bin, cand_logp, n_cand, voiced_prob, log_unvoiced


def _analysis_dtype(dtype):
    # float32 audio is analysed in float32, as librosa does: half the FFT time
    return np.float32 if dtype == np.float32 else np.float64


def _fast_pyin(y, *, sr, fmin, fmax, frame_length, hop_length, n_thresholds,
               beta_parameters, boltzmann_parameter, max_transition_rate, switch_prob,
               no_trough_prob, center, pad_mode):
    y = np.asarray(y, dtype=_analysis_dtype(y.dtype))
    frames = frame(y, frame_length=frame_length, hop_length=hop_length, center=center,
                   pad_mode=pad_mode)
    model = _Model(sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length,
                   hop_length=hop_length, n_thresholds=n_thresholds,
                   beta_parameters=beta_parameters, boltzmann_parameter=boltzmann_parameter,
                   max_transition_rate=max_transition_rate, switch_prob=switch_prob,
                   no_trough_prob=no_trough_prob)
    cand_bin, cand_logp, n_cand, voiced_prob, log_unvoiced = model.observations(frames)
    states = _viterbi(cand_bin, cand_logp, n_cand, log_unvoiced, model.log_stay,
                      model.log_switch, model.log_init, model.n_bins, model.half_width)
    voiced = states < model.n_bins
    f0 = model.freqs[states % model.n_bins]
    return f0, voiced, voiced_prob


#: Undecided frames the streaming decoder holds before it forces a decision.
MAX_UNDECIDED = 1 << 14


class _StreamingDecoder:
    """pyin's Viterbi decoding of a long clip, frames given chunk by chunk.

    The forward pass runs chunk after chunk with the same arithmetic as on the whole
    clip. Back-pointers are kept only for the frames not yet decided: after each
    chunk, the paths still open are traced back to the latest frame where they all
    meet (:func:`_merge_point`); every frame up to there is on the whole clip's best
    path whatever comes later, so it is decided exactly and its back-pointers are
    dropped. Measured at 16 kHz with F0Stats' frames (hop 371): on read speech with
    pauses the open paths met within 726 frames (17 s), on harmonic glides, vibrato,
    noise and 20 s pauses within 882 frames; so memory stays at a chunk plus that
    (1.6 KB of back-pointers per frame). Digital silence (frames without a candidate)
    can keep unvoiced paths apart for as long as it lasts: after ``max_undecided``
    frames (2**14, 6 minutes) without a merge, the frames before the last chunk follow
    the best path so far. Only then may the states differ from the whole clip's, and
    in silence only in the pitch an unvoiced state remembers (the voicing and the
    voiced f0 matched in a test with 10 minutes of silence).

    ``push(frames)`` returns the newly decided ``(states, voiced_prob)``; ``finish()``
    returns the rest.
    """

    def __init__(self, model, max_undecided=MAX_UNDECIDED):
        self.model = model
        self.max_undecided = max_undecided
        n_bins = model.n_bins
        self.v_u, self.v_v = np.empty(n_bins), np.empty(n_bins)
        self.prev_bins = np.empty(model.max_candidates, dtype=np.int64)
        self.carry = np.zeros(2)
        self.ptr = np.zeros((0, 2 * n_bins), dtype=np.int16)  # row 0: the anchor frame
        self.vprob = np.zeros(0)  # voiced probability of the frames after the anchor
        self.anchor = None  # state of the last decided frame
        self.n_forced = 0  # decisions forced by max_undecided (0: exact)
        self.longest = 0  # most undecided frames held at once

    def push(self, frames):
        cand_bin, cand_logp, n_cand, vprob, log_unvoiced = self.model.observations(frames)
        m = self.model
        first = self.anchor is None and not len(self.ptr)
        # one row before the chunk so that row t is frame t of the buffer
        ptr = np.zeros((len(n_cand) + 1, 2 * m.n_bins), dtype=np.int16)
        if first:
            ptr, args = ptr[1:], (cand_bin, cand_logp, n_cand, log_unvoiced)
            _viterbi_start(*args, m.log_init, self.v_u, self.v_v, self.prev_bins, self.carry)
            _viterbi_forward(*args, m.log_stay, m.log_switch, m.n_bins, m.half_width,
                             self.v_u, self.v_v, self.prev_bins, self.carry, 1, ptr)
            self.vprob = vprob[1:]
            self.first_vprob = vprob[0]
        else:
            pad = np.zeros((1, cand_bin.shape[1]), dtype=cand_bin.dtype)
            _viterbi_forward(np.vstack([pad, cand_bin]), np.vstack([pad + 0.0, cand_logp]),
                             np.r_[0, n_cand].astype(n_cand.dtype), np.r_[0.0, log_unvoiced],
                             m.log_stay, m.log_switch, m.n_bins, m.half_width, self.v_u,
                             self.v_v, self.prev_bins, self.carry, 1, ptr)
            ptr = ptr[1:]
            self.vprob = np.concatenate([self.vprob, vprob])
        self.ptr = np.concatenate([self.ptr, ptr]) if len(self.ptr) else ptr
        self.longest = max(self.longest, len(self.ptr))
        last = len(self.ptr) - 1
        tau, state = _merge_point(self.ptr, last, self.v_v, self.prev_bins, self.carry,
                                  m.n_bins)
        if tau < 1 and last + 1 > self.max_undecided:
            # no merge in max_undecided frames: decide all but the last chunk on the
            # best path so far (the only case where streaming may differ)
            tau = last - len(n_cand)
            best = np.empty(last + 1, dtype=np.int32)
            _traceback(self.ptr, last, _final_state(self.v_v, self.prev_bins, self.carry,
                                                    self.v_u, m.n_bins), best)
            state = best[tau]
            self.n_forced += 1
        if tau < 1:
            return self._empty()
        return self._decide(tau, state)

    def _empty(self):
        return np.zeros(0, dtype=np.int32), np.zeros(0)

    def _decide(self, tau, state):
        """Emit the frames up to buffer row ``tau`` (in state ``state``); keep the rest."""
        states = np.empty(tau + 1, dtype=np.int32)
        _traceback(self.ptr, tau, state, states)
        if self.anchor is None:  # row 0 is frame 0 of the clip: emit it too
            out, vprob = states, np.r_[self.first_vprob, self.vprob[:tau]]
        else:  # row 0 is the anchor, emitted already
            out, vprob = states[1:], self.vprob[:tau]
        self.anchor = int(state)
        self.ptr = self.ptr[tau:]
        self.vprob = self.vprob[tau:]
        return out, vprob

    def finish(self):
        if self.anchor is None and not len(self.ptr):
            return self._empty()
        last = len(self.ptr) - 1
        state = _final_state(self.v_v, self.prev_bins, self.carry, self.v_u, self.model.n_bins)
        if last == 0 and self.anchor is not None:
            return self._empty()
        return self._decide(last, state)


@validate_params(
    {
        "y": ["array-like"],
        "sr": [Interval(Real, 0, None, closed="neither")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "method": [StrOptions({"fast", "pyin"})],
        "n_thresholds": [Interval(Integral, 1, None, closed="left")],
        "beta_parameters": [tuple],
        "boltzmann_parameter": [Interval(Real, 0, None, closed="neither")],
        "max_transition_rate": [Interval(Real, 0, None, closed="neither")],
        "switch_prob": [Interval(Real, 0, 1, closed="both")],
        "no_trough_prob": [Interval(Real, 0, 1, closed="both")],
        "fill_na": [Real, None],
        "center": ["boolean"],
        "pad_mode": [str],
    },
    prefer_skip_nested_validation=True,
)
def estimate_f0(
    y,
    *,
    sr=22050,
    fmin=50.0,
    fmax=500.0,
    frame_length=2048,
    hop_length=None,
    method="fast",
    n_thresholds=N_THRESHOLDS,
    beta_parameters=BETA_PARAMETERS,
    boltzmann_parameter=BOLTZMANN_PARAMETER,
    max_transition_rate=MAX_TRANSITION_RATE,
    switch_prob=SWITCH_PROB,
    no_trough_prob=NO_TROUGH_PROB,
    fill_na=np.nan,
    center=True,
    pad_mode="constant",
):
    """Estimate the fundamental frequency (f0) of each frame with probabilistic YIN.

    A drop-in, faster alternative to :func:`librosa.pyin`: same parameters, same
    model, same outputs. ``method="fast"`` decodes pyin's hidden Markov model with a
    banded, sparse Viterbi instead of librosa's dense one (see the module notes);
    ``method="pyin"`` calls :func:`librosa.pyin` itself.

    Parameters
    ----------
    y : array-like of shape (..., n_samples)
        Audio. Leading axes (channels) are processed independently.

    sr : float, default=22050
        Sampling rate of ``y`` in Hz.

    fmin : float, default=50.0
        Lowest frequency to consider, in Hz.

    fmax : float, default=500.0
        Highest frequency to consider, in Hz. At most ``sr / 2``.

    frame_length : int, default=2048
        Analysis frame length in samples; one period of ``fmin`` must fit (ideally two).

    hop_length : int, default=None
        Samples between frames. None means ``frame_length // 4``.

    method : {"fast", "pyin"}, default="fast"
        ``"fast"``: sklaudio's implementation of the pyin model. ``"pyin"``:
        :func:`librosa.pyin`, the reference.

    n_thresholds : int, default=100
        Number of YIN thresholds between 0 and 1.

    beta_parameters : tuple of 2 float, default=(2, 18)
        Shape parameters of the beta prior over the thresholds.

    boltzmann_parameter : float, default=2.0
        Shape of the Boltzmann prior that favours shorter periods among troughs.

    max_transition_rate : float, default=35.92
        Fastest pitch change allowed between frames, in octaves per second.

    switch_prob : float, default=0.01
        Probability of switching between voiced and unvoiced from one frame to the next.

    no_trough_prob : float, default=0.01
        Probability mass given to the global minimum when no trough is below a threshold.

    fill_na : float or None, default=np.nan
        f0 reported for unvoiced frames. None reports the best pitch guess instead.

    center : bool, default=True
        Pad ``y`` by ``frame_length // 2`` on both sides so that frame ``t`` is
        centred at ``y[t * hop_length]``.

    pad_mode : str, default="constant"
        :func:`numpy.pad` mode used when ``center=True``.

    Returns
    -------
    f0 : ndarray of shape (..., n_frames)
        Fundamental frequency in Hz of each frame; ``fill_na`` where unvoiced.

    voiced_flag : ndarray of bool, shape (..., n_frames)
        Whether each frame is voiced.

    voiced_prob : ndarray of shape (..., n_frames)
        Probability that each frame is voiced.

    See Also
    --------
    F0Stats : Clip-level statistics of the f0 contour, as a transformer.
    librosa.pyin : The reference implementation of the same model.

    Notes
    -----
    The fast method reproduces pyin's observation and transition probabilities and
    decodes the same HMM. Two shortcuts keep it exact in practice: voiced states
    without a candidate trough (observation probability zero) are never tracked,
    and transitions outside the triangular band (probability zero) are only
    considered from the best previous state. Remaining differences from
    ``librosa.pyin`` come from floating-point rounding (an FFT of another length,
    float64 throughout) that can flip a near tie.

    References
    ----------
    .. [1] M. Mauch and S. Dixon, "pYIN: A fundamental frequency estimator using
       probabilistic threshold distributions", ICASSP 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import estimate_f0
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> y = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 440 * t)
    >>> f0, voiced_flag, voiced_prob = estimate_f0(y, sr=sr, fmin=60, fmax=500)
    >>> f0.shape
    (32,)
    >>> bool(voiced_flag[5:-5].all()), round(float(np.median(f0[voiced_flag])))
    (True, 220)
    """
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ValueError(f"y must hold audio samples along its last axis; got shape {y.shape}.")
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(f"y must be floating-point audio; got dtype {y.dtype}.")
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity; audio must be finite.")
    if len(beta_parameters) != 2:
        raise ValueError(f"beta_parameters must be 2 numbers; got {beta_parameters!r}.")
    _check_f0_params(sr, fmin, fmax, frame_length)
    if hop_length is None:
        hop_length = frame_length // 4
    params = dict(
        sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length, hop_length=hop_length,
        n_thresholds=n_thresholds, beta_parameters=tuple(beta_parameters),
        boltzmann_parameter=boltzmann_parameter, max_transition_rate=max_transition_rate,
        switch_prob=switch_prob, no_trough_prob=no_trough_prob, center=center,
        pad_mode=pad_mode,
    )
    if method == "pyin":
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # we warned already
            try:
                f0, voiced, prob = librosa.pyin(y, fill_na=fill_na, **params)
            except librosa.util.exceptions.ParameterError as exc:
                raise ValueError(f"librosa.pyin rejected the parameters: {exc}") from exc
        return f0, voiced, prob
    lead = y.shape[:-1]
    rows = [_fast_pyin(row, **params) for row in y.reshape(-1, y.shape[-1])]
    f0, voiced, prob = (np.stack([r[i] for r in rows]).reshape(lead + (-1,)) for i in range(3))
    if fill_na is not None:
        f0 = np.where(voiced, f0, fill_na)
    return f0, voiced, prob
