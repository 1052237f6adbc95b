"""Tests of the age/gender experiment: its report, targets and command."""

import numpy as np
import pandas as pd
import pytest

from sklaudio.experiment import run_experiment


def test_report_scores_per_speaker_answers_from_held_out_probabilities():
    """Check run_experiment's per-speaker scores on features whose clip noise averages
    out: each speaker has four noisy clips, so per-speaker answers are right more often
    than clip answers, and per-speaker MAE is below the clip MAE."""
    rng = np.random.default_rng(0)
    n_spk, k = 40, 4
    gender = np.repeat(np.tile(["female", "male"], n_spk // 2), k)
    age = np.repeat(rng.uniform(20, 60, n_spk), k)
    groups = np.repeat(np.arange(n_spk), k)
    signal = np.c_[(gender == "male") * 1.0, (age - 40) / 10]
    X = signal + rng.normal(scale=[1.2, 0.8], size=(n_spk * k, 2))
    labels = pd.DataFrame({"gender": gender, "age": age})
    report = run_experiment(X, labels, groups=groups, targets=("gender", "age_years"),
                            denoise=False, n_C=2, n_splits=3, log=lambda *a: None,
                            features=pd.DataFrame(X, columns=["f0__a", "f0__b"]))
    g, a = report["targets"]["gender"], report["targets"]["age_years"]
    assert g["per_speaker"]["n_speakers"] == n_spk
    assert g["per_speaker"]["balanced_accuracy"] > g["balanced_accuracy"] + 0.05
    assert a["per_speaker"]["mae_years"] < a["mae_years"] - 0.5


def test_per_speaker_scores_count_each_speaker_once():
    """Check that a speaker with many clips weighs as much as one with a single clip:
    speaker 'a' (8 clips, wrong answer) and speakers 'b', 'c', 'd' (1 clip each, right)
    give per-speaker accuracy 3/4, where clip weighting would give 3/11."""
    from sklaudio.experiment._run import _one_row_per_speaker

    g = np.array(["a"] * 8 + ["b", "c", "d"])
    y = np.array(["male"] * 8 + ["female", "male", "female"])
    pred_spk = np.array(["female"] * 8 + ["female", "male", "female"])
    y_s, p_s, g_s = _one_row_per_speaker("classification", y, pred_spk, g)
    assert list(g_s) == ["a", "b", "c", "d"]
    assert np.mean(y_s == p_s) == 0.75
    years = np.array([30.0] * 8 + [20.0, 40.0, 50.0])
    y_s, p_s, _ = _one_row_per_speaker("regression", years, years + 1, g)
    assert list(y_s) == [30.0, 20.0, 40.0, 50.0] and list(p_s) == [31.0, 21.0, 41.0, 51.0]


def test_regressed_years_are_scored_as_age_groups_after_rounding():
    """Check the bucketing of held-out years: rounded to whole years (12.4 is a child,
    12.6 a teen), negative predictions clipped to 0, per-speaker years bucketed too."""
    from sklaudio.experiment._run import _as_age_groups

    y = np.array([6.0, 15.0, 30.0])
    exact = _as_age_groups(y, np.array([12.4, 12.6, 19.6]), None, "child-teen-adult")
    assert exact["as_age_groups"]["balanced_accuracy"] == 1.0
    assert "per_speaker" not in exact["as_age_groups"]
    res = _as_age_groups(y, np.array([-3.0, 25.0, 13.0]), np.array([7.0, 16.0, 44.0]),
                         "child-teen-adult")["as_age_groups"]
    assert res["labels"] == ["child", "teen", "adult"]
    assert res["confusion_matrix"] == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert res["per_speaker"]["balanced_accuracy"] == 1.0


def test_noise_labels_are_reported_as_not_better_than_chance(tmp_path):
    """Check that labels unrelated to the features give a report that says, in the
    console, report.json and the figure title, that the model did not beat chance; and
    that a learnable target is reported as beating it."""
    import json

    rng = np.random.default_rng(1)
    n_spk, k = 30, 3
    groups = np.repeat(np.arange(n_spk), k)
    noise = np.repeat(rng.permutation(np.tile(["female", "male"], n_spk // 2)), k)
    X = rng.normal(size=(n_spk * k, 3))
    lines = []
    report = run_experiment(X, pd.DataFrame({"gender": noise}), groups=groups,
                            targets=["gender"], n_C=2, n_splits=3, log=lines.append,
                            features=pd.DataFrame(X, columns=["f0__a", "f0__b", "f0__c"]),
                            out_dir=tmp_path)
    chance = report["targets"]["gender"]["chance"]["balanced_accuracy"]
    assert chance["chance_level"] == 0.5 and chance["n_permutations"] >= 100
    assert chance["labels_shuffled"] == "between speakers"
    assert chance["p_value"] >= 0.05 and chance["beats_chance"] is False
    printed = "\n".join(lines)
    assert "gender: the model did NOT beat chance" in printed
    assert "NOT better than chance" in printed
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["targets"]["gender"]["chance"]["balanced_accuracy"]["beats_chance"] is False

    from sklaudio.experiment._report import figure_title

    assert "NOT better than chance" in figure_title("gender", saved["targets"]["gender"])
    # the same features with a label they carry
    signal = np.where(X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0, "male", "female")
    lines.clear()
    report = run_experiment(X, pd.DataFrame({"gender": signal}), targets=["gender"], n_C=2,
                            n_splits=3, log=lines.append,
                            features=pd.DataFrame(X, columns=["f0__a", "f0__b", "f0__c"]))
    chance = report["targets"]["gender"]["chance"]["balanced_accuracy"]
    assert chance["beats_chance"] is True and chance["p_value"] < 0.01
    assert chance["labels_shuffled"] == "between clips"
    assert "did NOT beat chance" not in "\n".join(lines)


def _buckets_with_a_rare_one(rng, n_per=(6, 8, 8, 6, 3), k=3):
    """Features carrying the bucket position; the last bucket has 3 speakers."""
    names = ["teens", "twenties", "thirties", "fifties", "sixties"]
    spk_label = np.repeat(names, n_per)
    pos = np.repeat(np.arange(len(n_per)), n_per)
    groups = np.repeat(np.arange(len(spk_label)), k)
    y = np.repeat(spk_label, k)
    X = np.repeat(pos, k)[:, None] + rng.normal(0, 0.7, (len(y), 2))
    return pd.DataFrame(X, columns=["f0__a", "f0__b"]), y, groups


def test_min_units_leave_every_inner_fold_a_member():
    """Check the fewest speakers a class needs, by hand (n - ceil(n / k) >= k), and that
    with that many every outer training set of a stratified grouped split keeps k."""
    from sklearn.model_selection import StratifiedGroupKFold

    from sklaudio.experiment._run import _min_units

    assert [_min_units(k) for k in (2, 3, 4, 5, 10)] == [4, 5, 6, 7, 12]
    for seed in range(5):
        y = np.array(["common"] * 30 + ["rare"] * 7)
        for train, _ in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(
                y, y, np.arange(len(y))):
            assert np.sum(y[train] == "rare") >= 5


def test_rare_age_group_is_merged_with_its_neighbour_and_said():
    """Check that an age group with fewer speakers than the folds need joins its
    neighbour (sixties, 3 speakers, into fifties), that the run says so and records it,
    that the ordinal order follows (a merged label between its neighbours), and that
    scikit-learn no longer warns about the rare class at every split."""
    import warnings

    X, y, groups = _buckets_with_a_rare_one(np.random.default_rng(0))
    lines = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = run_experiment(X.to_numpy(), pd.DataFrame({"age": y}), groups=groups,
                                targets=["age"], features=X, n_C=2, n_splits=3,
                                embedding=False, log=lines.append)
    res = report["targets"]["age"]
    assert res["classes_merged"] == {"fifties": "fifties-sixties", "sixties": "fifties-sixties"}
    assert res["labels"] == ["teens", "twenties", "thirties", "fifties-sixties"]
    assert any("fifties (6 speakers), sixties (3 speakers) merged into 'fifties-sixties' "
               "(9 speakers)" in line for line in lines)
    assert res["chance"]["balanced_accuracy"]["chance_level"] == 0.25
    assert not [w for w in caught if "least populated class" in str(w.message)]
    assert res["balanced_accuracy"] > 0.6  # the features carry the order


def test_rare_class_without_order_is_left_out_and_counted():
    """Check that a class with no order to merge along (age groups of unknown names)
    and too few speakers is left out, and the rows are counted as left out."""
    X, y, groups = _buckets_with_a_rare_one(np.random.default_rng(1))
    y = np.array([{"sixties": "z"}.get(v, v[:3]) for v in y], dtype=object)
    lines = []
    report = run_experiment(X.to_numpy(), pd.DataFrame({"age_group": y}), groups=groups,
                            targets=["age"], features=X, n_C=1, n_splits=3,
                            embedding=False, log=lines.append)
    res = report["targets"]["age"]
    assert res["left_out"] == {"class with fewer than 5 speakers": 9}
    assert "z" not in res["labels"] and res["n_clips"] == len(y) - 9
    assert any("classes ['z'] left out: fewer than 5 speakers each (z 3)" in line
               for line in lines)


def test_speaker_rows_are_the_mean_of_each_speakers_clips():
    """Check the pooled table against a pandas groupby, in order of first clip, with
    each speaker's most frequent label."""
    from sklaudio.experiment._run import _speaker_rows

    F = pd.DataFrame({"a": [1.0, 3.0, 10.0, 5.0, 7.0], "b": [0.0, 2.0, 4.0, 6.0, 8.0]})
    g = np.array(["s2", "s2", "s1", "s2", "s1"])
    y = np.array(["x", "y", "z", "y", "z"], dtype=object)
    means, y_s, speakers, codes = _speaker_rows(F, y, g)
    ref = F.groupby(g).mean().loc[["s2", "s1"]]
    np.testing.assert_allclose(means.to_numpy(), ref.to_numpy())
    assert list(means.columns) == ["a", "b"]
    assert y_s.tolist() == ["y", "z"] and speakers.tolist() == ["s2", "s1"]
    assert codes.tolist() == [0, 0, 1, 0, 1]


def test_pooled_model_is_fitted_on_speaker_means(tmp_path):
    """Check the saved model of a pooled run: its model steps, refitted by hand on one
    row per speaker (the mean of its clips), give the same answers; refitted on the
    clips they differ. Speakers have 1 to 6 clips."""
    from sklearn.base import clone

    import sklaudio
    from sklaudio.experiment import FEATURE_STEPS
    from sklaudio.experiment._run import _speaker_rows

    rng = np.random.default_rng(2)
    n_clips = rng.integers(1, 7, 24)
    groups = np.repeat(np.arange(24), n_clips)
    gender = np.repeat(np.tile(["female", "male"], 12), n_clips)
    X = pd.DataFrame({"f0__a": (gender == "male") + rng.normal(0, 1.0, len(gender)),
                      "f0__b": rng.normal(size=len(gender))})
    report = run_experiment(X.to_numpy(), pd.DataFrame({"gender": gender}), groups=groups,
                            targets=["gender"], features=X, n_C=1, n_splits=3,
                            embedding=False, pool_speakers=True, out_dir=tmp_path,
                            log=lambda *a: None)
    res = report["targets"]["gender"]
    assert res["trained_on"].startswith("one row per speaker")
    assert res["per_speaker"]["answered_from"].startswith("the model on the mean")
    steps = sklaudio.load_model(tmp_path / "model_gender.sklaudio")[len(FEATURE_STEPS):]
    means, y_s, _, _ = _speaker_rows(X, gender, groups)
    by_hand = clone(steps).fit(means, y_s)
    np.testing.assert_allclose(steps.predict_proba(X), by_hand.predict_proba(X))
    on_clips = clone(steps).fit(X, gender)
    assert not np.allclose(steps.predict_proba(X), on_clips.predict_proba(X))


def test_embedding_columns_bring_their_models_and_the_inner_cv_picks_them():
    """Check embedding='auto' with features: without 'embedding__' columns no embedding;
    with them (carrying the label, the other columns noise) the grid adds the models on
    the embedding and the final model uses its columns only."""
    from sklaudio.experiment._run import _use_embedding

    rng = np.random.default_rng(3)
    n_spk, k = 24, 2
    groups = np.repeat(np.arange(n_spk), k)
    gender = np.repeat(np.tile(["female", "male"], n_spk // 2), k)
    noise = pd.DataFrame(rng.normal(size=(len(gender), 3)), columns=["f0__a", "f0__b",
                                                                       "f0__c"])
    emb = np.abs(rng.normal(size=(len(gender), 4)))
    emb[:, 0] += 4.0 * (gender == "male")
    F = pd.concat([noise, pd.DataFrame(emb, columns=[f"embedding__e{i}" for i in range(4)])],
                  axis=1)
    assert _use_embedding("auto", noise, 16000, print) is False
    report = run_experiment(F.to_numpy(), pd.DataFrame({"gender": gender}), features=F,
                            targets=["gender"], n_C=1, n_splits=3, log=lambda *a: None,
                            groups=groups)
    res = report["targets"]["gender"]
    assert report["run"]["embedding"] is True
    assert [g.get("select__pattern") for g in report["run"]["grid"]["gender"]][1:] == [
        ["^embedding__"], ["^embedding__"]]
    assert res["best_params"]["select__pattern"] == "^embedding__"
    assert res["balanced_accuracy"] > 0.85
    with pytest.raises(ValueError, match="embedding=True but features has no 'embedding__'"):
        _use_embedding(True, noise, 16000, print)


def test_embedding_auto_says_once_why_it_is_not_used(monkeypatch):
    """Check the fall-back of embedding='auto' without weights or at another rate: one
    line saying why and how to install, and the voice features only."""
    import sklaudio.features._embedding as emb
    from sklaudio.experiment._run import _use_embedding

    def missing():
        raise ImportError("SpeakerEmbedding needs the encoder weights: pip install "
                          "--no-deps resemblyzer")

    monkeypatch.setattr(emb, "_weights_path", missing)
    lines = []
    assert _use_embedding("auto", None, 16000, lines.append) is False
    assert len(lines) == 1 and "speaker embedding not used" in lines[0]
    assert "pip install --no-deps resemblyzer" in lines[0]
    lines.clear()
    assert _use_embedding("auto", None, 8000, lines.append) is False
    assert len(lines) == 1 and "16000 Hz" in lines[0] and "sr=8000" in lines[0]
    monkeypatch.setattr(emb, "_weights_path", lambda: "pretrained.pt")
    assert _use_embedding("auto", None, 16000, lines.append) is True
    with pytest.raises(ValueError, match="embedding='yes'; expected True, False or 'auto'"):
        _use_embedding("yes", None, 16000, lines.append)


def test_inner_cv_chooses_speaker_means_when_one_speaker_floods_a_class():
    """Check pool_speakers='auto': one 'female' speaker has 60 clips that look male.
    Trained on clips (class-balanced), that speaker is most of its class and pulls the
    boundary, so the other female speakers' clips are misclassified; on speaker means it
    counts once. The inner CV must choose speaker means in the two outer folds that
    train on that speaker (the third holds it out: there the two ways nearly tie) and
    for the saved model, with the better inner score; pool_speakers=False trains on
    clips."""
    rng = np.random.default_rng(4)
    n_spk = 24
    gender = np.tile(["female", "male"], n_spk // 2)
    n_clips = np.full(n_spk, 2)
    n_clips[0] = 60  # speaker 0, female, sounds male
    groups = np.repeat(np.arange(n_spk), n_clips)
    y = np.repeat(gender, n_clips)
    centre = np.where(gender == "male", 1.0, -1.0)
    centre[0] = 1.5
    X = pd.DataFrame({"f0__a": np.repeat(centre, n_clips) + rng.normal(0, 0.4, len(y)),
                      "f0__b": rng.normal(size=len(y))})
    kw = dict(groups=groups, targets=["gender"], features=X, n_C=1, n_splits=3,
              embedding=False, log=lambda *a: None)
    res = run_experiment(X.to_numpy(), pd.DataFrame({"gender": y}), **kw)["targets"]["gender"]
    speaker_means = "one row per speaker (the mean of its clips' features)"
    assert res["trained_on_per_outer_fold"].count(speaker_means) >= 2
    assert res["trained_on"] == speaker_means
    compared = res["training_compared"]
    assert compared[speaker_means] > compared["clips"]
    from sklaudio.experiment._run import _pool_options

    assert _pool_options(False, "classification", groups) == [False]
    assert _pool_options("auto", "regression", groups) == [False]  # years: on clips
    with pytest.raises(ValueError, match="pool_speakers='yes'; expected True, False or"):
        run_experiment(X.to_numpy(), pd.DataFrame({"gender": y}), pool_speakers="yes", **kw)
