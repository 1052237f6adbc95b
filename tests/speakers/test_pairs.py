"""make_pairs and make_trials: the counts of the scheme, no repeats, correct labels."""

import numpy as np
import pytest

from sklaudio.exceptions import AudioWarning
from sklaudio.speakers import make_pairs, make_trials


def test_seed_scheme_counts_and_labels():
    speakers = np.repeat(["a", "b", "c", "d"], 20)  # 190 possible same pairs each
    pairs = make_pairs(speakers, random_state=0)  # 100 per speaker, 25 per speaker pair
    same = pairs[pairs.same]
    assert same.groupby("speaker_i").size().tolist() == [100] * 4
    assert len(pairs) - len(same) == 25 * 6
    assert (pairs.i < pairs.j).all()
    assert not pairs.duplicated(["i", "j"]).any()
    assert ((speakers[pairs.i] == speakers[pairs.j]) == pairs.same).all()
    assert (pairs.speaker_i == speakers[pairs.i]).all()
    diff = pairs[~pairs.same]
    assert diff.groupby(["speaker_i", "speaker_j"]).size().eq(25).all() or \
        diff.apply(lambda r: tuple(sorted((r.speaker_i, r.speaker_j))), axis=1) \
            .value_counts().eq(25).all()


def test_pairs_are_reproducible_and_vary():
    speakers = np.repeat(np.arange(5), 12)
    a = make_pairs(speakers, n_same=10, n_different=4, random_state=3)
    b = make_pairs(speakers, n_same=10, n_different=4, random_state=3)
    c = make_pairs(speakers, n_same=10, n_different=4, random_state=4)
    assert a.equals(b) and not a.equals(c)


def test_fewer_pairs_than_asked_takes_all_and_one_clip_warns():
    speakers = ["a", "a", "a", "b", "c", "c"]
    with pytest.warns(AudioWarning, match=r"single clip.*\['b'\]"):
        pairs = make_pairs(speakers, n_same=100, n_different=100, random_state=0)
    same = pairs[pairs.same]
    assert sorted(map(tuple, same[["i", "j"]].values.tolist())) == [(0, 1), (0, 2), (1, 2), (4, 5)]
    # every different-speaker pair exists exactly once: 3*1 + 3*2 + 1*2
    assert (~pairs.same).sum() == 11


def test_all_pairs_with_none():
    pairs = make_pairs(np.repeat([0, 1, 2], 4), n_same=None, n_different=None)
    assert len(pairs) == 12 * 11 // 2 and pairs.same.sum() == 3 * 6


def test_trials_every_enrolment_against_every_clip():
    trials = make_trials(["ann", "bob", "cid"], ["bob", "eve", "ann", "bob"])
    assert len(trials) == 12 and trials.target.sum() == 3
    assert trials[trials.test_clip == 1].target.sum() == 0  # eve is an impostor
    sampled = make_trials(["ann", "bob", "cid"], ["bob", "eve", "ann", "bob"], n_trials=5,
                          balance="per_speaker", random_state=0)
    assert len(sampled) == 5 and sampled.target.sum() == 3
    with pytest.raises(ValueError, match="unique"):
        make_trials(["ann", "ann"], ["ann"])
