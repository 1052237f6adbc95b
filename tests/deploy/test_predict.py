"""``sklaudio predict`` and the prediction rows behind it."""

import csv
import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import make_pipeline

from sklaudio.cli import main
from sklaudio.deploy import predict_clips, predict_files
from tests.deploy.conftest import clips_of, quality_flags


def _run(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_rows_in_input_order_with_errors(gender_model, gender_bundle, voices, tmp_path,
                                              capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for p in voices.paths[:3]:
        shutil.copy(p, folder)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really audio")
    inputs = [voices.paths[5], bad, folder, tmp_path / "missing.flac", voices.paths[4]]
    out = tmp_path / "pred.csv"
    status, _, err = _run(["predict", gender_bundle, *inputs, "--out", out,
                           "--batch-size", "2"], capsys)
    assert status == 2  # two inputs failed
    assert "2 of 7 clips failed" in err and "predict [" in err  # progress on stderr
    rows = list(csv.DictReader(out.open()))
    expected_inputs = ([voices.paths[5], str(bad)] + sorted(str(folder / p.split("/")[-1])
                                                            for p in voices.paths[:3])
                       + [str(tmp_path / "missing.flac"), voices.paths[4]])
    assert [r["input"] for r in rows] == expected_inputs
    assert "Cannot decode" in rows[1]["error"] and "not found" in rows[5]["error"]
    assert rows[1]["prediction"] == "" and rows[1]["proba_female"] == ""
    good = [i for i in range(7) if i not in (1, 5)]
    paths = [expected_inputs[i] for i in good]
    proba = gender_model.predict_proba(paths)
    got = np.array([[float(rows[i]["proba_female"]), float(rows[i]["proba_male"])]
                    for i in good])
    # batches of 2 against one batch of 5: BLAS may round the last bit differently
    np.testing.assert_allclose(got, proba, rtol=1e-12, atol=1e-15)
    assert [rows[i]["prediction"] for i in good] == gender_model.predict(paths).tolist()
    assert [rows[i]["quality"] for i in good] == quality_flags(clips_of(paths), empty="")


def test_cli_jsonl_and_per_speaker_answers(gender_model, gender_bundle, voices, tmp_path,
                                            capsys):
    manifest = voices.paths[0].rsplit("/", 1)[0] + "/manifest.csv"
    out = tmp_path / "pred.jsonl"
    status, _, _ = _run(["predict", gender_bundle, manifest, "--out", out, "--groups",
                         "speaker", "--quiet"], capsys)
    assert status == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["input"] for r in rows] == list(voices.paths)
    assert [r["speaker"] for r in rows] == voices.frame["speaker"].tolist()
    from sklaudio.model_selection import predict_per_speaker

    expected = predict_per_speaker(gender_model, voices.paths, voices.frame["speaker"])
    assert [r["speaker_prediction"] for r in rows] == expected.tolist()
    proba = gender_model.predict_proba(voices.paths)
    assert [r["proba"]["male"] for r in rows] == proba[:, 1].tolist()


def test_cli_refuses_before_any_work(gender_bundle, voices, tmp_path, capsys):
    status, out, err = _run(["predict", gender_bundle, voices.paths[0], "--out",
                             voices.paths[0]], capsys)
    assert status == 2 and "is also an input" in err and out == ""
    existing = tmp_path / "old.csv"
    existing.write_text("keep me")
    status, _, err = _run(["predict", gender_bundle, voices.paths[0], "--out", existing],
                          capsys)
    assert status == 2 and "--force" in err and existing.read_text() == "keep me"
    status, _, err = _run(["predict", gender_bundle, voices.paths[0], "--groups", "speaker"],
                          capsys)
    assert status == 2 and "--groups speaker" in err
    status, _, err = _run(["predict", tmp_path / "nope.sklaudio", voices.paths[0]], capsys)
    assert status == 2 and "not found" in err
    status, _, err = _run(["predict", gender_bundle, voices.paths[0], "--batch-size", "0"],
                          capsys)
    assert status == 2 and "--batch-size" in err


def test_predict_clips_and_files_agree(gender_model, voices, tmp_path):
    clips = clips_of(voices.paths[:3])
    from_clips = predict_clips(gender_model, clips, names=voices.paths[:3])
    from_files = list(predict_files(gender_model, voices.paths[:3], batch_size=2))
    assert from_clips == from_files
    proba = gender_model.predict_proba(clips)
    assert [r["proba"]["female"] for r in from_clips] == proba[:, 0].tolist()
    # a file at another rate and in stereo is loaded as the model's loader loads it
    y = np.stack([clips[0], clips[0]], axis=1)
    stereo = tmp_path / "stereo.flac"
    sf.write(stereo, y, 16000)
    (row,) = predict_files(gender_model, [stereo])
    assert row["proba"] == pytest.approx(from_clips[0]["proba"], abs=1e-3)


def test_failing_clip_does_not_take_its_batch_down(gender_model, voices):
    """A clip the model cannot take gets its own error row; the others are predicted."""
    clips = clips_of(voices.paths[:2])
    rows = predict_clips(gender_model, [clips[0], np.zeros(0, np.float32), clips[1]])
    assert rows[1]["error"] is not None and rows[1]["prediction"] is None
    expected = gender_model.predict_proba(clips)
    assert [rows[0]["proba"]["female"], rows[2]["proba"]["female"]] == expected[:, 0].tolist()


def test_csv_to_stdout(gender_bundle, voices, capsys):
    status, out, _ = _run(["predict", gender_bundle, voices.paths[1], "--quiet"], capsys)
    assert status == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["input"] == voices.paths[1] and row["prediction"] in ("female", "male")
    assert float(row["proba_female"]) + float(row["proba_male"]) == pytest.approx(1.0)


@pytest.mark.parametrize("command", ["predict", "serve"])
def test_every_option_says_its_default_and_no_jargon(command):
    from sklaudio.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        if action.dest == "help" or not action.option_strings:
            continue
        assert action.help and "default" in action.help, action.dest
        assert "seed" not in action.help.lower(), action.dest
    assert "seed" not in (sub.description or "").lower()


def test_cli_regression_rows_and_speaker_means(voices, tmp_path, capsys):
    """A regressor: no probability columns, per-speaker answers are mean years."""
    from sklearn.linear_model import Ridge

    from sklaudio.deploy import save_model
    from sklaudio.features import MelFeatures
    from sklaudio.io import AudioLoader

    ages = voices.frame["age"].astype(float)
    model = make_pipeline(AudioLoader(sr=16000), MelFeatures(), Ridge(alpha=10.0))
    model.fit(voices.paths, ages)
    bundle = tmp_path / "age.sklaudio"
    save_model(model, bundle, X=voices.paths, y=ages.rename("age"))
    manifest = voices.paths[0].rsplit("/", 1)[0] + "/manifest.csv"
    out = tmp_path / "age.csv"
    status, _, _ = _run(["predict", bundle, manifest, "--groups", "speaker", "--out", out,
                         "--quiet"], capsys)
    assert status == 0
    rows = list(csv.DictReader(out.open()))
    assert not any(c.startswith("proba_") for c in rows[0])
    pred = model.predict(voices.paths)
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], pred, rtol=1e-12)
    from sklaudio.model_selection import predict_per_speaker

    per_speaker = predict_per_speaker(model, voices.paths, voices.frame["speaker"])
    np.testing.assert_allclose([float(r["speaker_prediction"]) for r in rows], per_speaker,
                               rtol=1e-12)
    assert len(set(per_speaker)) == voices.frame["speaker"].nunique()  # one answer each
