"""The commands' shared input rule: folders, manifests and files into one list of paths."""

import os

import pytest

from sklaudio.cli._common import CLIError, collect_inputs


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_collect_inputs_folders_manifests_and_files(tmp_path):
    """Check a folder gives its audio files below it sorted by path (hidden and other
    files aside), a manifest its rows with the speaker column, a file itself, in order."""
    folder = tmp_path / "audio"
    b = _touch(folder / "b" / "2.wav")
    a = _touch(folder / "a" / "1.FLAC")
    _touch(folder / ".hidden.wav")
    _touch(folder / "notes.txt")
    clip = _touch(tmp_path / "x.wav")
    (tmp_path / "list.csv").write_text("path,speaker\nx.wav,s1\naudio/b/2.wav,s2\n")

    paths, speakers, manifests = collect_inputs([str(folder), str(tmp_path / "list.csv"),
                                                 str(clip)])
    assert [os.path.realpath(p) for p in paths] == [
        os.path.realpath(p) for p in (a, b, clip, b, clip)]
    assert speakers is None and manifests == [str(tmp_path / "list.csv")]

    paths, speakers, _ = collect_inputs([str(tmp_path / "list.csv")], "speaker")
    assert speakers == ["s1", "s2"]
    with pytest.raises(CLIError, match=r"--groups age: .*its columns are \['speaker'\]"):
        collect_inputs([str(tmp_path / "list.csv")], "age")
    with pytest.raises(CLIError, match=r"needs a manifest with that column for every input"):
        collect_inputs([str(tmp_path / "list.csv"), str(clip)], "speaker")


def test_collect_inputs_missing_files_and_empty_folders(tmp_path):
    """Check a missing file passes on as a row by default and is refused with
    missing='error', and a folder without audio is refused."""
    nope = str(tmp_path / "nope.wav")
    assert collect_inputs([nope])[0] == [nope]
    with pytest.raises(CLIError, match="nope.wav: no such file or folder"):
        collect_inputs([nope], missing="error")
    _touch(tmp_path / "empty" / "readme.txt")
    with pytest.raises(CLIError, match="holds no audio files"):
        collect_inputs([str(tmp_path / "empty")])
