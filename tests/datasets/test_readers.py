"""Tests of the manifest readers (Common Voice, LibriSpeech, generic CSV, folder tree)."""

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal
from sklearn.model_selection import GroupKFold

from sklaudio.datasets import (
    AGE_BUCKETS,
    Manifest,
    read_common_voice,
    read_common_voice_csv,
    read_dataset,
    read_folder,
    read_librispeech,
    read_manifest,
)
from sklaudio.exceptions import AudioLoadError, AudioWarning
from sklaudio.io import AudioLoader
from tests.conftest import require_data

CV_HEADER = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\n"


def _touch(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def _cv_folder(tmp_path, rows, clips=True):
    """A Common Voice release folder: <root>/clips/*.mp3 and train.tsv."""
    for r in rows:
        _touch(tmp_path / ("clips" if clips else "") / r[1])
    tsv = tmp_path / "train.tsv"
    tsv.write_text(CV_HEADER + "".join("\t".join(map(str, r)) + "\n" for r in rows),
                   encoding="utf-8")
    return tsv


CV_ROWS = [
    ("spk_a", "cv_1.mp3", 'He said "hi', 2, 0, "teens", "male", "", "en"),
    ("spk_a", "cv_2.mp3", "Bye.", 3, 1, "nineties", "male_masculine", "", "en"),
    ("spk_b", "cv_3.mp3", "It's fine.", 2, 0, "", "", "", "en"),
    ("spk_c", "cv_4.mp3", "Yes.", 4, 0, "forties", "female_feminine", "us", "en"),
    ("spk_d", "cv_5.mp3", "No.", 2, 1, "twenties", "other", "", "en"),
    ("spk_e", "cv_6.mp3", "Maybe.", 2, 0, "fifties", "do_not_wish_to_say", "", "en"),
]


# ----------------------------------------------------------------- Common Voice TSV


def test_read_common_voice_labels_groups_and_paths(tmp_path):
    """Check ages become ordered buckets, genders are mapped, groups are client ids."""
    tsv = _cv_folder(tmp_path, CV_ROWS)
    m = read_common_voice(tsv)
    assert isinstance(m, Manifest)
    assert m.paths == [str((tmp_path / "clips" / r[1]).resolve()) for r in CV_ROWS]
    assert all(os.path.isabs(p) for p in m.paths)
    assert_array_equal(m.groups, [r[0] for r in CV_ROWS])
    age = m.labels["age"]
    assert age.dtype == "category" and age.cat.ordered
    assert list(age.cat.categories) == list(AGE_BUCKETS)
    assert age.min() == "teens" and age.max() == "nineties"  # by age, not alphabet
    assert age.tolist()[:2] == ["teens", "nineties"] and pd.isna(age[2])
    assert m.labels["gender"].tolist()[:2] == ["male", "male"]
    assert m.labels["gender"][3] == "female" and m.labels["gender"][4] == "other"
    assert pd.isna(m.labels["gender"][2]) and pd.isna(m.labels["gender"][5])
    assert m.labels["sentence"][0] == 'He said "hi'  # unbalanced quote kept verbatim
    assert m.labels["up_votes"].tolist() == [2, 3, 2, 4, 2, 2]
    assert "path" not in m.labels and list(m.labels.index) == list(range(6))


def test_read_common_voice_dropna(tmp_path):
    tsv = _cv_folder(tmp_path, CV_ROWS)
    m = read_common_voice(tsv, dropna=True)
    assert [os.path.basename(p) for p in m.paths] == ["cv_1.mp3", "cv_2.mp3", "cv_4.mp3",
                                                       "cv_5.mp3"]
    assert list(m.groups) == ["spk_a", "spk_a", "spk_c", "spk_d"]
    assert m.labels["gender"].notna().all() and list(m.labels.index) == [0, 1, 2, 3]
    m = read_common_voice(tsv, dropna=["gender"])
    assert len(m.paths) == 4
    m = read_common_voice(tsv, dropna=["age"])
    assert len(m.paths) == 5


def test_read_common_voice_clips_dir(tmp_path):
    tsv = _cv_folder(tmp_path / "release", CV_ROWS[:2], clips=False)
    m = read_common_voice(tsv)  # no clips/ folder: next to the TSV
    assert m.paths[0] == str((tmp_path / "release" / "cv_1.mp3").resolve())
    other = tmp_path / "elsewhere"
    for r in CV_ROWS[:2]:
        _touch(other / r[1])
    m = read_common_voice(tsv, clips_dir=other)
    assert m.paths[1] == str((other / "cv_2.mp3").resolve())


def test_read_common_voice_every_spelling(tmp_path):
    """Check Common Voice's own spelling "fourties" and newer gender values are read."""
    rows = [("a", "1.mp3", "s", 1, 0, "fourties", "male_masculine", "", "en"),
            ("b", "2.mp3", "s", 1, 0, "Forties ", "female_feminine", "", "en"),
            ("c", "3.mp3", "s", 1, 0, "", "", "", "en")]
    m = read_common_voice(_cv_folder(tmp_path, rows))
    assert m.labels["age"].tolist()[:2] == ["forties", "forties"]
    assert m.labels["gender"].tolist()[:2] == ["male", "female"]
    assert m.labels[["age", "gender"]].iloc[2].isna().all()  # kept, not dropped
    assert len(m.paths) == 3


def test_read_common_voice_unknown_values_warn_and_become_missing(tmp_path):
    rows = [CV_ROWS[0], ("x", "cv_9.mp3", "a", 1, 0, "tweens", "male", "", "en")]
    with pytest.warns(AudioWarning, match=r"1 row\(s\) have age value\(s\) .*\['tweens'\]"):
        m = read_common_voice(_cv_folder(tmp_path / "a", rows))
    assert m.labels["age"][0] == "teens" and pd.isna(m.labels["age"][1])
    assert m.labels["gender"].tolist() == ["male", "male"]
    rows = [CV_ROWS[0], ("x", "cv_9.mp3", "a", 1, 0, "teens", "robot", "", "en")] * 2
    with pytest.warns(AudioWarning, match=r"2 row\(s\) have gender value\(s\) .*\['robot'\]"):
        m = read_common_voice(_cv_folder(tmp_path / "b", rows))
    assert m.labels["gender"].isna().tolist() == [False, True, False, True]


def test_read_common_voice_missing_columns(tmp_path):
    tsv = tmp_path / "x.tsv"
    tsv.write_text("path\tsentence\na.mp3\thi\n")
    msg = r"no column 'client_id', 'age', 'gender'; the columns that arrived are \['path', "
    with pytest.raises(ValueError, match=msg):
        read_common_voice(tsv)


def test_read_common_voice_missing_files(tmp_path):
    tsv = _cv_folder(tmp_path, CV_ROWS)
    os.remove(tmp_path / "clips" / "cv_2.mp3")
    os.remove(tmp_path / "clips" / "cv_5.mp3")
    with pytest.raises(AudioLoadError, match=r"2 of the 6 files .* \(first: '.*cv_2\.mp3'"):
        read_common_voice(tsv)
    with pytest.warns(AudioWarning, match=r"Dropped 2 of the 6 rows"):
        m = read_common_voice(tsv, on_missing="drop")
    assert len(m.paths) == len(m.labels) == len(m.groups) == 4
    assert list(m.groups) == ["spk_a", "spk_b", "spk_c", "spk_e"]
    # rows dropped by dropna (cv_3 has no age) are not checked for files
    os.remove(tmp_path / "clips" / "cv_3.mp3")
    with pytest.warns(AudioWarning, match=r"Dropped 2 of the 4 rows"):
        m = read_common_voice(tsv, dropna=True, on_missing="drop")
    assert len(m.paths) == 2
    with pytest.raises(ValueError, match="on_missing='skip'"):
        read_common_voice(tsv, on_missing="skip")


def test_empty_manifests(tmp_path):
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(ValueError, match=r"empty \(not even a header"):
        read_common_voice(tmp_path / "empty.tsv")
    (tmp_path / "header.tsv").write_text(CV_HEADER)
    with pytest.raises(ValueError, match=r"has a header .* but no rows"):
        read_common_voice(tmp_path / "header.tsv")
    (tmp_path / "header.csv").write_text("path,label\n")
    with pytest.raises(ValueError, match=r"no rows"):
        read_manifest(tmp_path / "header.csv")
    with pytest.raises(ValueError, match=r"no rows"):
        read_dataset(tmp_path / "header.csv")


# ----------------------------------------------------------------- Common Voice CSV


def test_read_common_voice_csv(tmp_path):
    """Check the older layout: filename relative to the CSV folder, text with commas."""
    folder = tmp_path / "cv"
    for i in range(3):
        _touch(folder / "cv-valid-train" / f"sample-00000{i}.mp3")
    (folder / "cv-valid-train.csv").write_text(
        "filename,text,up_votes,down_votes,age,gender,accent,duration\n"
        'cv-valid-train/sample-000000.mp3,"well, i see",1,0,twenties,female,us,\n'
        "cv-valid-train/sample-000001.mp3,no,2,0,,,,\n"
        "cv-valid-train/sample-000002.mp3,yes,1,1,seventies,male,england,\n"
    )
    m = read_common_voice_csv(folder / "cv-valid-train.csv")
    assert m.groups is None
    assert m.paths[2] == str((folder / "cv-valid-train" / "sample-000002.mp3").resolve())
    assert m.labels["text"][0] == "well, i see"
    assert m.labels["age"].cat.ordered and m.labels["age"][2] == "seventies"
    assert m.labels["gender"].tolist()[0] == "female" and pd.isna(m.labels["gender"][1])
    assert len(read_common_voice_csv(folder / "cv-valid-train.csv", dropna=True).paths) == 2
    # read_dataset recognises the layout from its header
    m2 = read_dataset(folder / "cv-valid-train.csv")
    assert m2.paths == m.paths and m2.labels["age"].cat.ordered


# ----------------------------------------------------------------- LibriSpeech


SPEAKERS = (
    "; comment line\n"
    ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
    "19   | F | train-clean-100  | 25.19 | Kara Shallenberg\n"
    "26   | M | train-clean-100  | 25.08 | Denny Sayers\n"
    "60   | M | train-clean-100  | 20.18 | |CBW|Simon\n"
)


def _libri_tree(root, names):
    root.mkdir(parents=True, exist_ok=True)
    (root / "SPEAKERS.TXT").write_text(SPEAKERS)
    for name in names:
        spk, chap, _ = name.split("-")
        sf.write(_mk(root / spk / chap) / f"{name}.flac", np.zeros(160), 16000)
    return root


def _mk(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_read_librispeech_by_glob(tmp_path):
    """Check a LibriSpeech tree without manifest: speaker from file names, gender from SPEAKERS."""
    root = _libri_tree(tmp_path / "ls", ["60-121082-0000", "19-198-0001", "19-198-0000"])
    m = read_librispeech(root)
    assert [os.path.basename(p) for p in m.paths] == [
        "19-198-0000.flac", "19-198-0001.flac", "60-121082-0000.flac"]
    assert m.labels["speaker"].tolist() == ["19", "19", "60"]
    assert m.labels["chapter"].tolist() == ["198", "198", "121082"]
    assert m.labels["gender"].tolist() == ["female", "female", "male"]
    assert m.labels["subset"].tolist() == ["train-clean-100"] * 3
    assert list(m.groups) == ["19", "19", "60"]


def test_read_librispeech_unknown_speaker_and_bad_names(tmp_path):
    root = _libri_tree(tmp_path / "ls", ["19-198-0000", "777-1-0000"])
    with pytest.warns(AudioWarning, match=r"1 speaker\(s\) .* not in SPEAKERS.TXT .*'777'"):
        m = read_librispeech(root)
    assert pd.isna(m.labels["gender"][1])
    sf.write(root / "oops.flac", np.zeros(10), 16000)
    with pytest.raises(ValueError, match=r"oops\.flac.* not named like LibriSpeech"):
        read_librispeech(root)


def test_read_librispeech_manifest_gender_disagreement_warns(tmp_path):
    root = _libri_tree(tmp_path / "ls", ["19-198-0000", "26-495-0000"])
    (root / "manifest.csv").write_text(
        "path,speaker,gender\n19/198/19-198-0000.flac,19,male\n26/495/26-495-0000.flac,26,male\n"
    )
    with pytest.warns(AudioWarning, match=r"another gender than SPEAKERS.TXT .*\['19'\]"):
        m = read_librispeech(root)
    assert m.labels["gender"].tolist() == ["female", "male"]


def test_read_librispeech_requires_speakers_txt(tmp_path):
    with pytest.raises(ValueError, match=r"no SPEAKERS.TXT"):
        read_librispeech(tmp_path)


# ----------------------------------------------------------------- generic CSV


def test_read_manifest_resolves_paths_against_csv_folder(tmp_path):
    data = tmp_path / "data"
    _touch(data / "audio" / "a.wav")
    abs_file = _touch(tmp_path / "elsewhere" / "b.wav")
    (data / "list.csv").write_text(
        f"file,speaker,age,note\naudio/a.wav,0007,31,x\n{abs_file},0012,8,y\n"
    )
    m = read_manifest(data / "list.csv", path_col="file", label_cols=["age"],
                      group_col="speaker")
    assert m.paths == [str((data / "audio" / "a.wav").resolve()), str(abs_file)]
    assert list(m.labels.columns) == ["age"] and m.labels["age"].tolist() == [31, 8]
    assert list(m.groups) == ["0007", "0012"]  # leading zeros kept
    # root= overrides the CSV folder
    _touch(tmp_path / "other" / "audio" / "a.wav")
    m = read_manifest(data / "list.csv", path_col="file", root=tmp_path / "other")
    assert m.paths[0] == str((tmp_path / "other" / "audio" / "a.wav").resolve())
    assert m.labels["speaker"].tolist() == ["0007", "0012"]


def test_read_manifest_errors(tmp_path):
    _touch(tmp_path / "a.wav")
    csv = tmp_path / "m.csv"
    csv.write_text("file,label\na.wav,dog\n")
    with pytest.raises(ValueError, match=re.escape(
            "has no column 'path'; the columns that arrived are ['file', 'label']. "
            "Pass path_col=")):
        read_manifest(csv)
    with pytest.raises(ValueError, match=r"no column 'speaker'.*group_col"):
        read_manifest(csv, path_col="file", group_col="speaker")
    with pytest.raises(ValueError, match=r"no column 'age'"):
        read_manifest(csv, path_col="file", label_cols=["label", "age"])
    csv.write_text("path,label\na.wav,dog\n,cat\n")
    with pytest.raises(ValueError, match=r"the file path is empty in 1 row\(s\) \(data rows \[1\]"):
        read_manifest(csv)
    csv.write_text("path,speaker\na.wav,\n")
    with pytest.raises(ValueError, match=r"column 'speaker' \(the groups\) is empty"):
        read_manifest(csv, group_col="speaker")
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        read_manifest(tmp_path / "nope.csv")


def test_read_manifest_missing_files_names_first_few(tmp_path):
    _touch(tmp_path / "a.wav")
    rows = "".join(f"missing{i}.wav,x\n" for i in range(5))
    (tmp_path / "m.csv").write_text("path,label\na.wav,y\n" + rows)
    with pytest.raises(AudioLoadError, match=r"5 of the 6 files .*missing0\.wav.*missing2\.wav"):
        read_manifest(tmp_path / "m.csv")
    with pytest.warns(AudioWarning):
        m = read_manifest(tmp_path / "m.csv", on_missing="drop")
    assert m.labels["label"].tolist() == ["y"]
    (tmp_path / "n.csv").write_text("path,label\n" + rows)
    with pytest.warns(AudioWarning), pytest.raises(ValueError, match=r"No rows .* are left"):
        read_manifest(tmp_path / "n.csv", on_missing="drop")


def test_non_ascii_paths_in_manifest_and_load(tmp_path):
    """Check a manifest naming a file with ñ, loaded through AudioLoader."""
    folder = tmp_path / "voces"
    folder.mkdir()
    data = np.linspace(-0.5, 0.5, 800)
    sf.write(folder / "niño_ñ.wav", data, 8000, subtype="FLOAT")
    (folder / "manifest.csv").write_text("path,label\nniño_ñ.wav,kid\n", encoding="utf-8")
    m = read_dataset(folder)
    assert m.paths == [str((folder / "niño_ñ.wav").resolve())]
    X = AudioLoader(sr=None).transform(m.paths)
    assert_array_equal(X[0], data.astype(np.float32))


# ----------------------------------------------------------------- folder tree


def test_read_folder(tmp_path):
    for rel in ["dog/1.wav", "dog/sub/2.WAV", "rain/a.ogg", "rain/notes.txt", "rain/.hidden.wav",
                "cat/b.mp3", "cat/c.flac"]:
        _touch(tmp_path / rel)
    m = read_folder(tmp_path)
    rel = [os.path.relpath(p, tmp_path) for p in m.paths]
    assert rel == ["cat/b.mp3", "cat/c.flac", "dog/1.wav", "dog/sub/2.WAV", "rain/a.ogg"]
    assert m.labels["label"].tolist() == ["cat", "cat", "dog", "dog", "rain"]
    assert m.groups is None
    m = read_folder(tmp_path, extensions=(".ogg",))
    assert m.labels["label"].tolist() == ["rain"]


def test_read_folder_errors(tmp_path):
    _touch(tmp_path / "empty_class" / "readme.txt")
    with pytest.raises(ValueError, match=r"No audio files"):
        read_folder(tmp_path)
    _touch(tmp_path / "loose.wav")
    with pytest.raises(ValueError, match=r"audio files directly inside it \(\['loose\.wav'\]\)"):
        read_folder(tmp_path)
    with pytest.raises(NotADirectoryError):
        read_folder(tmp_path / "loose.wav")


# ----------------------------------------------------------------- read_dataset dispatch


def test_read_dataset_dispatch(tmp_path):
    """Check each kind of input goes to its reader."""
    tsv = _cv_folder(tmp_path / "cv", CV_ROWS[:2])
    assert read_dataset(tsv).labels["age"].cat.ordered
    (tmp_path / "cv" / "validated.tsv").write_text(tsv.read_text())
    assert list(read_dataset(tmp_path / "cv").groups) == ["spk_a", "spk_a"]
    ls = _libri_tree(tmp_path / "ls", ["26-495-0000"])
    assert read_dataset(ls).labels["gender"].tolist() == ["male"]
    _touch(tmp_path / "tree" / "yes" / "1.wav")
    assert read_dataset(tmp_path / "tree").labels["label"].tolist() == ["yes"]
    _touch(tmp_path / "flat" / "x.wav")
    flat = read_dataset(tmp_path / "flat")
    assert flat.labels["name"].tolist() == ["x.wav"] and flat.groups is None
    _touch(tmp_path / "csv" / "a.wav")
    (tmp_path / "csv" / "list.csv").write_text("filename,speaker_id,y\na.wav,7,1\n")
    m = read_dataset(tmp_path / "csv" / "list.csv")
    assert list(m.groups) == ["7"] and m.labels["y"].tolist() == [1]
    (tmp_path / "csv" / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"no column of file paths .* columns are \['x', 'y'\]"):
        read_dataset(tmp_path / "csv" / "bad.csv")
    with pytest.raises(FileNotFoundError):
        read_dataset(tmp_path / "nothing")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="does not know how to read"):
        read_dataset(tmp_path / "x.json")


# ----------------------------------------------------------------- real data sets


def test_real_librispeech():
    """Check read_librispeech on librispeech-251: 125 female / 126 male, as manifest.csv says."""
    root = require_data("librispeech-251")
    m = read_librispeech(root)
    ref = pd.read_csv(root / "manifest.csv", dtype={"speaker": str})
    assert len(m.paths) == 251 and all(os.path.isfile(p) for p in m.paths)
    # compare real paths: CI reaches the data through a symlinked ../shared
    assert [os.path.realpath(p) for p in m.paths] == [
        os.path.realpath(root / p) for p in ref["path"]
    ]
    assert m.labels["gender"].value_counts().to_dict() == {"male": 126, "female": 125}
    assert m.labels["gender"].astype(str).tolist() == ref["gender"].tolist()
    assert list(m.groups) == ref["speaker"].tolist() and len(set(m.groups)) == 251
    assert read_dataset(root).labels.equals(m.labels)


def test_real_fsdd_and_speechocean():
    """Check read_dataset on fsdd and speechocean762 against their manifest columns."""
    for name, n, n_speakers in [("fsdd", 3000, 6), ("speechocean762", 250, 125)]:
        root = require_data(name)
        ref = pd.read_csv(root / "manifest.csv", dtype={"speaker": str})
        m = read_dataset(root)
        assert len(m.paths) == n
        assert [os.path.realpath(p) for p in m.paths] == [
            os.path.realpath(root / p) for p in ref["path"]
        ]
        assert list(m.groups) == ref["speaker"].tolist()
        assert len(set(m.groups)) == n_speakers
        assert list(m.labels.columns) == [c for c in ref.columns if c != "path"]
        for col in ref.columns.drop(["path", "speaker"]):
            if name == "speechocean762" and col == "utterance":
                continue  # ids with leading zeros stay strings (checked below)
            assert m.labels[col].tolist() == ref[col].tolist(), col
    m = read_dataset(require_data("speechocean762"))
    assert m.labels["utterance"][0] == "000010011" and m.groups[0] == "0001"
    assert m.labels["age"].between(6, 43).all()
    # speaker groups give speaker-independent folds
    for train, test in GroupKFold(n_splits=5).split(m.paths, groups=m.groups):
        assert not set(m.groups[train]) & set(m.groups[test])


def test_real_common_voice():
    """Check read_dataset on a real Common Voice release folder against its own TSVs."""
    root = require_data("commonvoice-en")
    ref = pd.read_csv(root / "validated.tsv", sep="\t", dtype=str, keep_default_na=False,
                      quoting=3)
    m = read_dataset(root)
    # validated.tsv only, every row kept (with or without labels), in order
    assert len(m.paths) == len(ref) == len(m.labels) == len(m.groups)
    assert [os.path.basename(p) for p in m.paths] == ref["path"].tolist()
    assert all(os.path.isfile(p) for p in m.paths[:5])
    assert list(m.groups) == ref["client_id"].tolist()
    assert (m.labels["age"] == "forties").sum() == (ref["age"] == "fourties").sum() > 0
    assert m.labels["age"].isna().sum() == (ref["age"] == "").sum() > 0
    assert m.labels["gender"].astype(object).fillna("").tolist() == ref["gender"].tolist()
    inv = read_common_voice(root / "invalidated.tsv")
    ref_inv = pd.read_csv(root / "invalidated.tsv", sep="\t", dtype=str, quoting=3)
    assert len(inv.paths) == len(ref_inv) and not set(inv.paths) & set(m.paths)


def test_real_esc10_has_no_groups():
    root = require_data("esc10")
    m = read_dataset(root)
    assert len(m.paths) == 320 and m.groups is None
    assert sorted(m.labels["fold"].unique()) == [1, 2, 3, 4]
    assert all(os.path.isfile(p) for p in m.paths[:5])  # folder names with spaces
