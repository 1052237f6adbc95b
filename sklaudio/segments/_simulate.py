"""Simulated binary segment streams with known truth, for tests and benchmarks."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["simulate_streams"]

# (weight, mean, std) of two duration populations per class, in seconds
_POPULATIONS = {
    "background": ((0.5, 2.0, 0.5), (0.5, 8.0, 2.0)),
    "foreground": ((0.5, 3.0, 0.8), (0.5, 12.0, 3.0)),
}


def _durations(rng, pops, n):
    w = np.array([p[0] for p in pops])
    which = rng.choice(len(pops), size=n, p=w / w.sum())
    mean = np.array([p[1] for p in pops])[which]
    std = np.array([p[2] for p in pops])[which]
    return np.maximum(rng.normal(mean, std), 1.0)


def simulate_streams(
    n_streams=1, duration=3600.0, *, flip_rate=0.1, flip_duration=(0.05, 0.5),
    populations=None, random_state=None,
):
    """Truth and a noisy detector's output for binary background/foreground streams.

    Each stream alternates ``background`` and ``foreground`` turns whose durations come
    from two Gaussian populations per class (clipped at 1 s). The detector copies the
    truth but flips the label inside short spurious intervals: a Poisson process of
    ``flip_rate`` per second, each flip lasting uniformly ``flip_duration`` seconds.

    Parameters
    ----------
    n_streams : int, default=1
        Number of streams.

    duration : float, default=3600.0
        Length of each stream in seconds.

    flip_rate : float, default=0.1
        Spurious flips per second.

    flip_duration : tuple of float, default=(0.05, 0.5)
        Range of the flips' durations in seconds.

    populations : dict, default=None
        ``{label: ((weight, mean, std), ...)}``; None uses the built-in two per class.

    random_state : int, RandomState instance or None, default=None
        Controls the random streams.

    Returns
    -------
    truth, raw : DataFrame
        Columns ``stream``, ``start``, ``end``, ``label``; ``raw`` is the detector's output.
    """
    rng = check_random_state(random_state)
    pops = populations or _POPULATIONS
    labels = np.array(list(pops))
    truth_parts, raw_parts = [], []
    for k in range(n_streams):
        mean_turn = np.mean([sum(w * m for w, m, _ in p) / sum(w for w, _, _ in p)
                             for p in pops.values()])
        n = int(duration / mean_turn * 1.5) + 10
        code = np.arange(n) % 2
        if rng.rand() < 0.5:
            code = 1 - code
        d = np.empty(n)
        for c in range(2):
            d[code == c] = _durations(rng, pops[labels[c]], int((code == c).sum()))
        edges = np.r_[0.0, np.cumsum(d)]
        m = int(np.searchsorted(edges, duration))  # turns that start before the end
        t_edges = np.r_[edges[:m], duration]
        t_code = code[:m]
        # spurious flips: Poisson onsets, uniform lengths, clipped to the stream
        n_flip = rng.poisson(flip_rate * duration)
        on = np.sort(rng.uniform(0, duration, n_flip))
        off = np.minimum(on + rng.uniform(*flip_duration, n_flip), duration)
        cuts = np.unique(np.r_[t_edges, on, off])
        mid = (cuts[:-1] + cuts[1:]) / 2
        base = t_code[np.searchsorted(t_edges, mid, side="right") - 1]
        # inside a flip when more flips have started than ended before mid
        inside = (np.searchsorted(on, mid) - np.searchsorted(off, mid)) > 0
        r_code = np.where(inside, 1 - base, base)
        keep = np.r_[True, r_code[1:] != r_code[:-1]]
        r_start = cuts[:-1][keep]
        r_end = np.r_[r_start[1:], duration]
        truth_parts.append(pd.DataFrame(
            {"stream": k, "start": t_edges[:-1], "end": t_edges[1:], "label": labels[t_code]}
        ))
        raw_parts.append(pd.DataFrame(
            {"stream": k, "start": r_start, "end": r_end, "label": labels[r_code[keep]]}
        ))
    return (pd.concat(truth_parts, ignore_index=True), pd.concat(raw_parts, ignore_index=True))
