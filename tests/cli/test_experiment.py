"""Tests of ``sklaudio experiment``: arguments checked before any work, and what a run
writes (report.json, clips.csv, models, figures)."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import sklaudio
from sklaudio.cli import build_parser, main


def _one_line_error(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("sklaudio experiment: error: "), err
    for part in parts:
        assert part in err, err
    return err


@pytest.fixture
def gender_only(tmp_path):
    """A corpus whose labels have gender and speaker but no age."""
    root = tmp_path / "corpus"
    root.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        name = f"c{i}.wav"
        sf.write(root / name, 0.1 * rng.standard_normal(1600), 16000)
        rows.append((name, ["female", "male"][i % 2], f"s{i}"))
    pd.DataFrame(rows, columns=["path", "gender", "speaker"]).to_csv(root / "manifest.csv",
                                                                    index=False)
    return root


@pytest.mark.parametrize("argv, parts", [
    (["--age-scheme", "bogus"], ["--age-scheme 'bogus' is not known", "child-teen-adult"]),
    (["--n-C", "0"], ["--n-C must be at least 1; got 0"]),
    (["--n-splits", "1"], ["--n-splits must be at least 2; got 1"]),
    (["--n-jobs", "0"], ["--n-jobs must not be 0"]),
])
def test_bad_numbers_and_names_fail_at_once(tmp_path, capsys, argv, parts):
    out = tmp_path / "res"
    assert main(["experiment", "--out", str(out), *argv]) == 2
    _one_line_error(capsys, *parts)
    assert not out.exists()  # nothing written, no corpus made


def test_target_the_labels_cannot_give_fails_before_extraction(tmp_path, capsys, gender_only):
    out = tmp_path / "res"
    assert main(["experiment", str(gender_only), "--target", "age", "--out", str(out)]) == 2
    _one_line_error(capsys, "target 'age' needs an 'age' column",
                    "['gender', 'speaker']", str(gender_only))
    assert not out.exists()
    assert main(["experiment", str(gender_only), "--target", "gender", "--n-splits", "7",
                 "--out", str(out)]) == 2
    _one_line_error(capsys, "target 'gender' has 6 speakers with a label, fewer than the 7")


def test_used_or_unwritable_output_is_refused(tmp_path, capsys, gender_only):
    used = tmp_path / "used"
    used.mkdir()
    (used / "report.json").write_text("{}")
    assert main(["experiment", str(gender_only), "--out", str(used)]) == 2
    _one_line_error(capsys, "is not empty", "--force")
    assert (used / "report.json").read_text() == "{}"
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["experiment", str(gender_only), "--out", str(afile / "res")]) == 2
    _one_line_error(capsys, "cannot be written")
    assert main(["experiment", str(gender_only), "--out", str(gender_only)]) == 2
    _one_line_error(capsys, "is the data folder")


def test_every_option_says_its_default_and_no_jargon():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["experiment"]
    for action in sub._actions:
        if action.dest in ("help",):
            continue
        assert action.help and "default" in action.help, action.dest
        assert "seed" not in action.help.lower(), action.dest
    assert "seed" not in (sub.description or "").lower()


def test_experiment_command_writes_the_whole_run(tmp_path, capsys):
    """Check the main command end to end on a tiny synthetic corpus: the report records
    the run, the confusion matrix counts every clip once, clips.csv keeps every clip in
    order with its held-out prediction, and the saved model predicts."""
    out = tmp_path / "res"
    assert main(["experiment", "--n-speakers", "8", "--n-splits", "2", "--n-C", "2",
                 "--target", "gender", "--embedding", "no", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "held-out balanced accuracy" in printed and "confusion matrix" in printed
    assert ("gender: outer fold 1/2: 24 grid points x 2 inner folds on 8 clips, each trained "
            "on clips and on speaker means") in printed
    assert "gender: outer fold 2/2 done" in printed and "s left" in printed
    report = json.loads((out / "report.json").read_text())
    run = report["run"]
    assert run["targets"] == ["gender"] and run["n_splits"] == 2 and run["random_state"] == 0
    assert run["sr"] == 16000 and "synthetic voices" in run["data"]
    assert set(run["versions"]) >= {"sklaudio", "scikit-learn", "numpy", "librosa"}
    assert run["grid"]["gender"]["clf__C"] == [0.001, 100.0]
    assert len(run["grid"]["gender"]["scaler"]) == 3
    res = report["targets"]["gender"]
    assert np.sum(res["confusion_matrix"]) == run["n_clips"] == 16
    assert res["labels"] == ["female", "male"]
    assert len(res["top_grid_points"]) == 5
    clips = pd.read_csv(out / "clips.csv")
    paths = sorted(str(p) for p in (out / "voices").glob("*.wav"))
    assert sorted(clips["path"]) == paths and len(clips) == 16
    assert {"speaker", "gender", "gender_true", "gender_pred", "quality"} <= set(clips.columns)
    correct = (clips["gender_true"] == clips["gender_pred"]).mean()
    assert correct == pytest.approx(res["accuracy"])
    assert (out / "confusion_gender.png").stat().st_size > 1000
    model = sklaudio.load_model(out / "model_gender.sklaudio")
    assert set(model.predict(paths[:4])) <= {"female", "male"}
    # the same folder again: refused without --force, replaced with it
    assert main(["experiment", "--n-speakers", "8", "--out", str(out)]) == 2
    _one_line_error(capsys, "is not empty")


def test_experiment_command_without_denoiser(tmp_path, capsys):
    out = tmp_path / "res"
    main(["experiment", "--n-speakers", "8", "--n-splits", "2", "--n-C", "2",
          "--target", "gender", "--no-denoise", "--embedding", "no", "--out", str(out)])
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["denoise"] is False
    model = sklaudio.load_model(out / "model_gender.sklaudio")
    assert model.named_steps["denoise"] == "passthrough"
    assert type(model.named_steps["trim"]).__name__ == "Trimmer"


@pytest.mark.parametrize("argv, embedding, pool", [
    ([], "auto", False),
    (["--embedding"], "yes", False),
    (["--embedding", "no", "--pool-speakers"], "no", True),
])
def test_embedding_and_pooling_options(argv, embedding, pool):
    """Check the speaker-encoder choice (auto by default, --embedding alone means yes) and
    the per-speaker training switch as parsed."""
    args = build_parser().parse_args(["experiment", "--out", "x", *argv])
    assert args.embedding == embedding and args.pool_speakers is pool
