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
