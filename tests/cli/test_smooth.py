"""The ``smooth`` command through ``sklaudio.cli.main``: results, safety of files, errors."""

import json

import numpy as np
import pandas as pd
import pytest

from sklaudio.cli import main
from sklaudio.segments import GMMSegmentSmoother, ViterbiSmoother, read_rttm, write_segments
from tests.conftest import require_data


def _segs():
    rng = np.random.default_rng(0)
    durs = []
    for _ in range(30):
        durs += [float(rng.uniform(8, 12)), float(rng.choice([0.2, 10.0]))]
    t = np.r_[0, np.cumsum(durs)]
    return [{"start": float(t[i]), "end": float(t[i + 1]),
             "label": "foreground" if i % 2 else "background"} for i in range(len(durs))]


def test_smooth_json_equals_estimator_and_csv_to_stdout(tmp_path, capsys):
    """Check the output equals the estimator's, in JSON and as CSV on stdout."""
    segs = _segs()
    inp = tmp_path / "in.json"
    write_segments(segs, inp)
    assert main(["smooth", str(inp), "-o", str(tmp_path / "out.json")]) == 0
    want = GMMSegmentSmoother().fit_transform(segs)
    assert json.loads((tmp_path / "out.json").read_text()) == want
    assert main(["smooth", str(inp), "--method", "viterbi", "--switch-penalty", "0.3",
                 "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "start,end,label"
    assert len(lines) - 1 == len(ViterbiSmoother(switch_penalty=0.3).fit_transform(segs))


def test_smooth_never_overwrites_input_and_refuses_existing_output(tmp_path, capsys):
    """Check `-o` onto the input is refused (file intact) and `--force` is needed to replace."""
    inp = tmp_path / "in.csv"
    write_segments(pd.DataFrame(_segs()), inp)
    before = inp.read_bytes()
    assert main(["smooth", str(inp), "-o", str(inp)]) == 2
    err = capsys.readouterr().err
    assert "is also an input" in err and len(err.strip().splitlines()) == 1
    assert main(["smooth", str(inp), "-o", str(inp), "--force"]) == 2  # never, even forced
    assert inp.read_bytes() == before
    out = tmp_path / "out.csv"
    out.write_text("keep me\n")
    assert main(["smooth", str(inp), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep me\n"
    assert main(["smooth", str(inp), "-o", str(out), "--force"]) == 0
    assert out.read_text().startswith("start,end,label")


@pytest.mark.parametrize("make, args, msg", [
    (lambda p: p.write_bytes(b"RIFF\x00\x00WAVEfmt \x00\x01"), [], "not a text segments file"),
    (lambda p: p.write_bytes(b"\xff\xfe\x80abc"), [], "binary data at byte 0"),
    (lambda p: p.write_text("[{\"start\": 1, \"end\": 0, \"label\": \"a\"}]"), [], "row 0"),
    (lambda p: p.write_text("not json"), [], "in.json"),
    (lambda p: p.write_text("[]"), ["--kernel-size", "4", "--method", "median"], "must be odd"),
    (lambda p: p.write_text("[]"), ["--min-samples", "-1"], "--min-samples"),
    (None, [], "does not exist"),
])
def test_smooth_errors_are_one_line_exit_2(tmp_path, capsys, make, args, msg):
    """Check binary files, bad rows, bad JSON and bad options give one line naming the cause."""
    inp = tmp_path / "in.json"
    if make is not None:
        make(inp)
    assert main(["smooth", str(inp), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1 and err.startswith("sklaudio smooth: error:")


def test_smooth_reads_rttm(tmp_path):
    """Check RTTM input: speech/non-speech union of turns, smoothed, equals the library path."""
    root = require_data("ami-segments")
    rttm = root / "debug.train.rttm"
    out = tmp_path / "out.csv"
    assert main(["smooth", str(rttm), "--uem", str(root / "debug.train.uem"), "--method",
                 "viterbi", "-o", str(out)]) == 0
    got = pd.read_csv(out)
    want = ViterbiSmoother().fit_transform(read_rttm(rttm, uem=root / "debug.train.uem"))
    assert list(got.columns) == ["stream", "start", "end", "label"]
    np.testing.assert_allclose(got[["start", "end"]].to_numpy(), want[["start", "end"]].to_numpy())
    assert got.label.tolist() == want.label.tolist()


def test_every_option_help_gives_its_default(capsys):
    """Check `smooth --help` states a default for each option."""
    with pytest.raises(SystemExit):
        main(["smooth", "--help"])
    text = " ".join(capsys.readouterr().out.split("options:", 1)[1].split())
    options = ["--output", "--force", "--format", "--uem", "--method", "--fit", "--strategy",
               "--min-samples", "--max-components", "--min-duration-on", "--min-duration-off",
               "--positive", "--frame-duration", "--kernel-size", "--switch-penalty"]
    for opt in options:
        part = text.split(opt, 1)[1]
        nxt = min((part.find(o) for o in options if part.find(o) > 0), default=len(part))
        assert "default" in part[:nxt], opt


def test_python_m_sklaudio_smooth_goes_through_the_handler(tmp_path):
    """Check `python -m sklaudio smooth` on a binary file: one line naming it, exit 2."""
    import subprocess
    import sys

    wav = tmp_path / "audio.json"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
    res = subprocess.run([sys.executable, "-m", "sklaudio", "smooth", str(wav)],
                         capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "audio.json is not a text segments file" in lines[0]
