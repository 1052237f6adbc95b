"""Same- and different-speaker pairs of clips, and enrolment-against-test trial lists."""

import warnings
from itertools import combinations
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from sklaudio.exceptions import AudioWarning
from sklaudio.utils._compat import Interval, StrOptions, validate_params

__all__ = ["make_pairs", "make_trials"]


def _speaker_labels(speakers, name):
    y = column_or_1d(np.asarray(speakers, dtype=object))
    missing = [i for i, v in enumerate(y) if v is None or (isinstance(v, float) and np.isnan(v))]
    if missing:
        raise ValueError(f"{name}[{missing[0]}] is missing; every clip needs a speaker label.")
    return y


def _sample_pairs(candidates_a, candidates_b, n, rng, *, same):
    """Up to n distinct index pairs: all of them when fewer exist."""
    if same:
        total = len(candidates_a) * (len(candidates_a) - 1) // 2
    else:
        total = len(candidates_a) * len(candidates_b)
    if n is None or n >= total:
        if same:
            return [(a, b) for a, b in combinations(candidates_a, 2)]
        return [(a, b) for a in candidates_a for b in candidates_b]
    picks = rng.choice(total, size=n, replace=False)
    out = []
    for p in np.sort(picks):
        if same:  # p-th pair (i < j) in row-major order of the upper triangle
            m = len(candidates_a)
            i = int(m - 2 - np.floor(np.sqrt(-8 * p + 4 * m * (m - 1) - 7) / 2.0 - 0.5))
            j = int(p + i + 1 - m * (m - 1) // 2 + (m - i) * ((m - i) - 1) // 2)
            out.append((candidates_a[i], candidates_a[j]))
        else:
            out.append((candidates_a[p // len(candidates_b)], candidates_b[p % len(candidates_b)]))
    return out


@validate_params(
    {
        "speakers": ["array-like"],
        "n_same": [Interval(Integral, 1, None, closed="left"), None],
        "n_different": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_pairs(speakers, *, n_same=100, n_different=25, random_state=None):
    """Same-speaker and different-speaker pairs of clips, for training or evaluation.

    The defaults are the scheme of a Siamese-network recipe: 100 same-speaker pairs per
    speaker and 25 different-speaker pairs per pair of speakers, drawn without
    repetition. When a speaker (or a pair of speakers) has fewer distinct pairs than
    asked, all of them are taken.

    Parameters
    ----------
    speakers : array-like of shape (n_clips,)
        Speaker of each clip.

    n_same : int or None, default=100
        Same-speaker pairs per speaker; None takes every pair.

    n_different : int or None, default=25
        Different-speaker pairs per pair of speakers; None takes every pair.

    random_state : int, RandomState instance or None, default=None
        Which pairs are drawn. An int gives the same pairs every call.

    Returns
    -------
    pairs : pandas.DataFrame
        One row per pair: ``i`` and ``j`` (positions of the two clips in
        ``speakers``, ``i < j``), ``speaker_i``, ``speaker_j``, ``same`` (bool).
        Same-speaker pairs first, speaker by speaker in order of first appearance.

    Warns
    -----
    AudioWarning
        Naming the speakers with a single clip, who get no same-speaker pair.

    See Also
    --------
    make_trials : Every enrolled speaker against every test clip.
    SpeakerVerifier.decision_function : Scores pairs.

    Examples
    --------
    >>> from sklaudio.speakers import make_pairs
    >>> pairs = make_pairs(["a", "a", "a", "b", "b"], n_same=2, n_different=3, random_state=0)
    >>> pairs.same.tolist()
    [True, True, True, False, False, False]
    >>> pairs[pairs.same][["i", "j"]].values.tolist()
    [[0, 2], [1, 2], [3, 4]]
    """
    y = _speaker_labels(speakers, "speakers")
    rng = check_random_state(random_state)
    order = pd.unique(y)
    where = {s: np.flatnonzero(y == s) for s in order}
    lone = [s for s in order if len(where[s]) < 2]
    if lone:
        warnings.warn(
            f"make_pairs: {len(lone)} speaker(s) have a single clip and get no same-speaker "
            f"pair: {[str(s) for s in lone[:10]]}{' ...' if len(lone) > 10 else ''}.",
            AudioWarning, stacklevel=3,
        )
    rows = []
    for s in order:
        rows += [(a, b, True) for a, b in _sample_pairs(where[s], None, n_same, rng, same=True)]
    for s, t in combinations(order, 2):
        for a, b in _sample_pairs(where[s], where[t], n_different, rng, same=False):
            rows.append((min(a, b), max(a, b), False))
    if not rows:
        raise ValueError("make_pairs found no pair: pass clips of at least two speakers, "
                         "or two clips of one.")
    out = pd.DataFrame(rows, columns=["i", "j", "same"])
    out.insert(2, "speaker_i", y[out.i.to_numpy()])
    out.insert(3, "speaker_j", y[out.j.to_numpy()])
    return out


@validate_params(
    {
        "enrolled": ["array-like"],
        "test_speakers": ["array-like"],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "balance": [StrOptions({"none", "per_speaker"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_trials(enrolled, test_speakers, *, n_trials=None, balance="none", random_state=None):
    """Trial list: enrolled speakers against test clips, target when the speakers agree.

    Parameters
    ----------
    enrolled : array-like of shape (n_enrolled,)
        The enrolled speakers (e.g. ``SpeakerVerifier.speakers_``).

    test_speakers : array-like of shape (n_test,)
        True speaker of each test clip; a speaker that is not enrolled gives only
        non-target trials (an impostor).

    n_trials : int or None, default=None
        None: every enrolled speaker against every test clip. An int draws that many
        trials without repetition (all of them if fewer exist).

    balance : {"none", "per_speaker"}, default="none"
        With ``n_trials``: ``"per_speaker"`` keeps every target trial and draws the
        non-target ones, so that the targets are not lost among many impostors.

    random_state : int, RandomState instance or None, default=None
        Which trials are drawn.

    Returns
    -------
    trials : pandas.DataFrame
        ``test_clip`` (position in ``test_speakers``), ``speaker`` (the enrolled one
        claimed), ``target`` (bool), in clip order then enrolment order.

    See Also
    --------
    make_pairs : Clip-against-clip pairs.
    SpeakerVerifier.score_claims : Scores such trials.

    Examples
    --------
    >>> from sklaudio.speakers import make_trials
    >>> make_trials(["ann", "bob"], ["bob", "eve"]).values.tolist()
    [[0, 'ann', False], [0, 'bob', True], [1, 'ann', False], [1, 'bob', False]]
    """
    enrolled = _speaker_labels(enrolled, "enrolled")
    test = _speaker_labels(test_speakers, "test_speakers")
    if len(set(enrolled.tolist())) != len(enrolled):
        raise ValueError("make_trials: enrolled speakers must be unique.")
    clip = np.repeat(np.arange(len(test)), len(enrolled))
    speaker = np.tile(enrolled, len(test))
    target = test[clip] == speaker
    if n_trials is not None and n_trials < len(clip):
        rng = check_random_state(random_state)
        if balance == "per_speaker":
            tar, non = np.flatnonzero(target), np.flatnonzero(~target)
            k = max(0, min(len(non), n_trials - len(tar)))
            keep = np.sort(np.r_[tar, rng.choice(non, size=k, replace=False)])
        else:
            keep = np.sort(rng.choice(len(clip), size=n_trials, replace=False))
        clip, speaker, target = clip[keep], speaker[keep], target[keep]
    return pd.DataFrame({"test_clip": clip, "speaker": speaker, "target": target.astype(bool)})
