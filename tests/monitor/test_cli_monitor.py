"""``sklaudio monitor``: tables and model bundles in, a ranked table, report.json and a figure
out, exit status 1 on drift."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from sklaudio.cli import main
from sklaudio.exceptions import AudioWarning
from sklaudio.monitor import DriftMonitor


@pytest.fixture
def tables(tmp_path):
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"rms_dbfs": r.normal(-25, 3, 300), "snr_db": r.normal(30, 5, 300)})
    same = pd.DataFrame({"rms_dbfs": r.normal(-25, 3, 100), "snr_db": r.normal(30, 5, 100)})
    noisy = same.assign(snr_db=r.normal(12, 5, 100))
    paths = {}
    for name, df in (("ref", ref), ("same", same), ("noisy", noisy)):
        paths[name] = tmp_path / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    return paths, ref, same, noisy


def test_tables_exit_status_and_report(tables, tmp_path, capsys):
    """Check exit 0 without drift, 1 with it, and report.json equal to the library's."""
    pytest.importorskip("matplotlib")
    paths, ref, same, noisy = tables
    assert main(["monitor", str(paths["ref"]), str(paths["same"])]) == 0
    assert capsys.readouterr().out.startswith("drift: no")
    out = tmp_path / "out"
    assert main(["monitor", str(paths["ref"]), str(paths["noisy"]), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert text.startswith("drift: YES") and "snr_db" in text
    want = DriftMonitor().fit(ref).test(noisy).to_dict()
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(want))
    assert (out / "drift.png").stat().st_size > 1000
    # two NEW_DATA tables are one batch
    assert main(["monitor", str(paths["ref"]), str(paths["same"]), str(paths["noisy"]),
                 "--correction", "fdr_bh"]) == 1
    rep = json.loads(json.dumps(DriftMonitor(correction="fdr_bh").fit(ref).test(
        pd.concat([same, noisy], ignore_index=True)).to_dict()))
    assert rep["n_current"] == 200 and f"{rep['n_current']} rows" in capsys.readouterr().out


def test_user_mistakes_are_one_line_errors(tables, tmp_path, capsys):
    """Check used --out folders, non-table NEW_DATA and other columns: exit 2, one line."""
    paths, *_ = tables
    out = tmp_path / "used"
    out.mkdir()
    (out / "x").write_text("")
    assert main(["monitor", str(paths["ref"]), str(paths["same"]), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    assert main(["monitor", str(paths["ref"]), str(wav)]) == 2
    assert "NEW_DATA must be tables" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    pd.DataFrame({"rms": [1.0, 2.0]}).to_csv(other, index=False)
    assert main(["monitor", str(paths["ref"]), str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing ['rms_dbfs', 'snr_db']" in err
    assert main(["monitor", str(tmp_path / "nope.csv"), str(paths["same"])]) == 2


def test_bundle_with_reference_monitors_audio_files(tmp_path, capsys):
    """Check a bundle saved with a DriftMonitor: NEW_DATA audio files go through its
    features and the report equals the in-process one."""
    deploy = pytest.importorskip("sklaudio.deploy")
    import soundfile as sf
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklaudio.features import MelFeatures
    from sklaudio.io import AudioLoader
    from tests.conftest import harmonic

    r = np.random.default_rng(0)
    paths = []
    for i in range(30):
        y = harmonic(r.uniform(100, 220), sr=8000, duration=0.5, amp=r.uniform(0.2, 0.5))
        y = np.r_[y, 0.001 * r.standard_normal(2000), y]
        if i >= 20:  # the new files are noisy
            y = y + 0.05 * r.standard_normal(len(y))
        paths.append(str(tmp_path / f"c{i:02d}.wav"))
        sf.write(paths[-1], y, 8000, subtype="FLOAT")
    model = Pipeline([
        ("load", AudioLoader(sr=8000)),
        ("mel", MelFeatures(kind="mfcc", sr=8000, n_mfcc=4, n_fft=256, hop_length=128,
                            n_mels=16)),
        ("clf", LogisticRegression()),
    ]).fit(paths[:20], ["a", "b"] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        monitor = DriftMonitor(features=model[:2], model=model).fit(paths[:10])
        bundle = tmp_path / "model.sklaudio"
        deploy.save_model(model, bundle, reference=monitor)
        want = monitor.test(paths[20:]).to_dict()
        out = tmp_path / "out"
        status = main(["monitor", str(bundle), *paths[20:], "--out", str(out)])
    assert status == int(want["drift"]) == 1
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(want))
    assert "quality__snr_db" in want["drifted_health"]
    capsys.readouterr()
    plain = tmp_path / "plain.sklaudio"
    deploy.save_model(model, plain)
    assert main(["monitor", str(plain), *paths[20:]]) == 2
    assert "holds no drift reference" in capsys.readouterr().err
