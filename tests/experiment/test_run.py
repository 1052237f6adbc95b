"""Tests of the age/gender experiment: its report, targets and command."""

import numpy as np
import pandas as pd

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
