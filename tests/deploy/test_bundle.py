"""Model bundles: round trips in a fresh process, trust, tampering, versions, signatures."""

import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklaudio.deploy import (
    BundleError,
    BundleVersionWarning,
    UntrustedTypesError,
    load_bundle,
    load_model,
    read_metadata,
    save_model,
)
from sklaudio.deploy._bundle import _seal
from tests.deploy.conftest import clips_of

# A fresh interpreter loads every bundle and writes what each model predicts: the
# in-process and the reloaded predictions must be identical, bit for bit.
_RELOAD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import sklaudio
    from sklaudio.io import load_audio

    jobs = json.load(open(sys.argv[1]))
    out = {}
    for i, job in enumerate(jobs):
        model = sklaudio.load_model(job["bundle"])
        if job["kind"] == "paths":
            X = job["input"]
        elif job["kind"] == "clips":
            X = [load_audio(p, sr=16000)[0] for p in job["input"]]
        elif job["kind"] == "npy":
            X = np.load(job["input"])
        else:  # segments
            res = model.transform(json.load(open(job["input"])))
            out[f"{i}_transform"] = np.array(json.dumps(res, sort_keys=True))
            continue
        pred = np.asarray(model.predict(X))
        out[f"{i}_predict"] = pred.astype(str) if pred.dtype == object else pred
        if hasattr(model, "predict_proba"):
            out[f"{i}_proba"] = model.predict_proba(X)
    np.savez(sys.argv[2], **out)
""")


def _reload_in_fresh_process(jobs, tmp_path):
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs))
    script = tmp_path / "reload.py"
    script.write_text(_RELOAD)
    out = tmp_path / "out.npz"
    res = subprocess.run([sys.executable, str(script), str(spec), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return dict(np.load(out, allow_pickle=False))


def test_round_trips_in_fresh_process(gender_model, gender_bundle, voices, tmp_path):
    """Age/gender from paths and clips, age regression, imblearn + augmenter, smoother."""
    from imblearn.pipeline import Pipeline as ImbPipeline

    from sklaudio.augment import AddNoise, AudioAugmenter
    from sklaudio.experiment import make_age_gender_pipeline
    from sklaudio.features import MelFeatures
    from sklaudio.segments import GMMSegmentSmoother

    paths = voices.paths
    clips = clips_of(paths)
    expected, jobs = [], []

    def add(bundle, kind, inp, model, X):
        jobs.append({"bundle": str(bundle), "kind": kind, "input": inp})
        expected.append((np.asarray(model.predict(X)),
                         model.predict_proba(X) if hasattr(model, "predict_proba") else None))

    add(gender_bundle, "paths", paths, gender_model, paths)
    add(gender_bundle, "clips", paths, gender_model, clips)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = make_age_gender_pipeline(task="regression", denoise=False, trim=False)
        reg.fit(paths, voices.frame["age"].astype(float))
    save_model(reg, tmp_path / "age.sklaudio")
    add(tmp_path / "age.sklaudio", "paths", paths, reg, paths)

    matrix = np.stack([c[:8000] for c in clips]).astype(np.float32)
    np.save(tmp_path / "matrix.npy", matrix)
    imb = ImbPipeline([
        ("augment", AudioAugmenter(operations=[("noise", AddNoise(snr_db=(10, 20)))],
                                   n_copies=1, sr=16000, random_state=0)),
        ("mel", MelFeatures(sr=16000)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]).fit(matrix, voices.frame["gender"])
    save_model(imb, tmp_path / "imb.sklaudio")
    add(tmp_path / "imb.sklaudio", "npy", str(tmp_path / "matrix.npy"), imb, matrix)

    rng = np.random.default_rng(0)
    segs, t = [], 0.0
    for i in range(150):  # turns of 20-40 s, a third of them cut by a 0.1-0.5 s blip
        lab, other = ("background", "foreground")[:: 1 if i % 2 == 0 else -1]
        d = rng.uniform(20, 40)
        pieces = [(d, lab)]
        if rng.random() < 1 / 3:
            cut = rng.uniform(5, d - 5)
            pieces = [(cut, lab), (rng.uniform(0.1, 0.5), other), (d - cut, lab)]
        for dur, name in pieces:
            segs.append({"startTime": t, "endTime": t + dur, "segment": name})
            t += dur
    (tmp_path / "segs.json").write_text(json.dumps(segs))
    smoother = GMMSegmentSmoother().fit(segs)
    save_model(smoother, tmp_path / "smoother.sklaudio")
    jobs.append({"bundle": str(tmp_path / "smoother.sklaudio"), "kind": "segments",
                 "input": str(tmp_path / "segs.json")})

    got = _reload_in_fresh_process(jobs, tmp_path)
    for i, (pred, proba) in enumerate(expected):
        np.testing.assert_array_equal(got[f"{i}_predict"], pred.astype(got[f"{i}_predict"].dtype))
        if proba is not None:
            np.testing.assert_array_equal(got[f"{i}_proba"], proba)
    smoothed = json.loads(str(got[f"{len(expected)}_transform"]))
    assert smoothed == json.loads(json.dumps(smoother.transform(segs), sort_keys=True))
    assert len(smoothed) < len(segs)  # the blips were merged: a real smoothing happened


def test_speaker_embedding_round_trip(voices, tmp_path):
    """Only where the encoder's weights (the resemblyzer package) are installed."""
    from sklaudio.features import SpeakerEmbedding
    from sklaudio.io import AudioLoader

    model = make_pipeline(AudioLoader(sr=16000), SpeakerEmbedding(),
                          LogisticRegression(max_iter=2000))
    paths, y = [voices.paths[0], voices.paths[2]], ["female", "male"]  # two speakers
    try:
        model.fit(paths, y)
    except ImportError as exc:  # the encoder's weights ship with resemblyzer
        pytest.skip(f"SpeakerEmbedding's extra is not installed: {exc}")
    save_model(model, tmp_path / "emb.sklaudio")
    got = _reload_in_fresh_process(
        [{"bundle": str(tmp_path / "emb.sklaudio"), "kind": "paths", "input": paths}],
        tmp_path)
    np.testing.assert_array_equal(got["0_proba"], model.predict_proba(paths))


def test_metadata_describes_the_model(gender_model, gender_bundle, voices):
    import librosa
    import sklearn

    meta = read_metadata(gender_bundle)
    assert meta["sr"] == 16000
    assert meta["task"] == "classification"
    assert meta["classes"] == ["female", "male"]
    assert meta["target"] == "gender"
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert meta["versions"]["librosa"] == librosa.__version__
    assert meta["versions"]["numpy"] == np.__version__
    names = gender_model[3:-1].get_feature_names_out().tolist()
    assert meta["feature_names"] == names
    counts = voices.frame["gender"].value_counts().to_dict()
    assert meta["training_data"]["class_counts"] == counts
    assert meta["training_data"]["n_clips"] == len(voices.paths)
    dur = np.array([len(c) / 16000 for c in clips_of(voices.paths)])
    assert meta["training_data"]["duration_s"]["min"] == pytest.approx(dur.min(), abs=1e-4)
    assert meta["training_data"]["duration_s"]["max"] == pytest.approx(dur.max(), abs=1e-4)
    classes = {r["public"] for r in meta["sklaudio_classes"]}
    assert "sklaudio.features.F0Stats" in classes and "sklaudio.io.AudioLoader" in classes


def test_save_does_not_change_the_estimator(gender_model, tmp_path):
    union = gender_model.named_steps["features"]
    before = list(union._transformers_feature_names_out)
    save_model(gender_model, tmp_path / "m.sklaudio")
    assert all(isinstance(a, pd.Index) for a in union._transformers_feature_names_out)
    assert all(a is b for a, b in zip(before, union._transformers_feature_names_out))
    # and the reloaded union holds pandas Index objects again
    loaded = load_model(tmp_path / "m.sklaudio").named_steps["features"]
    for a, b in zip(loaded._transformers_feature_names_out, before):
        assert isinstance(a, pd.Index)
        pd.testing.assert_index_equal(a, b)


def _tiny(tmp_path, name="tiny.sklaudio", **kwargs):
    clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["f", "f", "m", "m"])
    path = tmp_path / name
    save_model(clf, path, **kwargs)
    return clf, path


class Doubler:
    """A class from outside the trusted libraries."""

    def __call__(self, X):
        return 2 * np.asarray(X)


def test_untrusted_types_are_refused_by_name(tmp_path):
    X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    model = make_pipeline(FunctionTransformer(os.system), LogisticRegression())
    model.steps[0][1].fit(X)
    model.steps[1][1].fit(X, y)
    save_model(model, tmp_path / "system.sklaudio")
    with pytest.raises(UntrustedTypesError, match=r"posix\.system"):
        load_model(tmp_path / "system.sklaudio")
    # functions of trusted libraries that read or write files are not trusted
    for func, name in [(np.save, "numpy.save"), (np.load, "numpy.load")]:
        path = tmp_path / f"{func.__name__}.sklaudio"
        save_model(FunctionTransformer(func).fit(X), path)
        with pytest.raises(UntrustedTypesError, match=name.replace(".", r"\.")):
            load_model(path)

    ours = make_pipeline(FunctionTransformer(Doubler()), LogisticRegression()).fit(X, y)
    save_model(ours, tmp_path / "doubler.sklaudio")
    name = f"{__name__}.Doubler"
    with pytest.raises(UntrustedTypesError, match=name.replace(".", r"\.")):
        load_model(tmp_path / "doubler.sklaudio")
    loaded = load_model(tmp_path / "doubler.sklaudio", trusted=[name])
    np.testing.assert_array_equal(loaded.predict_proba(X), ours.predict_proba(X))


def _rewrite(path, *, member=None, data=None, meta=None, seal=True):
    """Rewrite a bundle's member (a valid zip with fresh CRCs, as an editor would)."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if meta is not None:
        members["metadata.json"] = json.dumps(_seal(meta) if seal else meta).encode()
    if member is not None:
        members[member] = data
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)


def test_tampered_bundles_are_refused(tmp_path):
    _, path = _tiny(tmp_path)
    original = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        payload = zf.read("model.skops")

    # the model's bytes changed (a valid zip: only our checksum can tell)
    inner = zipfile.ZipFile(io.BytesIO(payload))
    schema = json.loads(inner.read("schema.json"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for item in inner.infolist():
            out.writestr(item.filename, inner.read(item.filename))
        out.writestr("extra.txt", b"x")
    _rewrite(path, member="model.skops", data=buf.getvalue(), seal=False)
    with pytest.raises(BundleError, match="model.skops does not match the checksum"):
        load_model(path)
    assert schema  # the payload was a real skops file

    # the metadata edited without its checksum
    path.write_bytes(original)
    meta = read_metadata(path)
    meta["classes"] = ["m", "f"]
    _rewrite(path, meta=meta, seal=False)
    with pytest.raises(BundleError, match="changed after it was saved"):
        load_model(path)

    # bytes flipped on disk
    damaged = bytearray(original)
    at = original.find(b"model.skops") + 200
    damaged[at] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(BundleError):
        load_model(path)

    # not a bundle at all: a joblib pickle is refused without being unpickled
    import joblib

    joblib.dump({"a": 1}, tmp_path / "model.joblib")
    with pytest.raises(BundleError, match="not a sklaudio model bundle"):
        load_model(tmp_path / "model.joblib")


def test_other_versions_warn_naming_them(tmp_path):
    clf, path = _tiny(tmp_path)
    meta = read_metadata(path)
    meta["versions"].update({"scikit-learn": "1.0.0", "librosa": "0.9.1"})
    _rewrite(path, meta=meta)
    with pytest.warns(BundleVersionWarning, match=r"scikit-learn 1\.0\.0.*librosa 0\.9\.1"):
        loaded = load_model(path)
    assert loaded.predict([[2.5]]).tolist() == ["m"]
    _, same = _tiny(tmp_path, "same.sklaudio")
    with warnings.catch_warnings():
        warnings.simplefilter("error", BundleVersionWarning)
        load_model(same)


def test_changed_class_signature_fails_at_load(gender_bundle, tmp_path):
    path = tmp_path / "old.sklaudio"
    path.write_bytes(gender_bundle.read_bytes())
    meta = read_metadata(path)
    rec = next(r for r in meta["sklaudio_classes"] if r["class"].endswith("TemporalFeatures"))
    # saved by a sklaudio whose TemporalFeatures had rms_floor and no n_mels
    rec["params"] = sorted(set(rec["params"]) - {"n_mels"} | {"rms_floor"})
    _rewrite(path, meta=meta)
    with pytest.raises(BundleError, match=r"TemporalFeatures has added \['n_mels'\] and "
                                          r"removed \['rms_floor'\]"):
        load_model(path)


def test_moved_class_loads_from_its_new_module(tmp_path):
    """A class that moved module (same parameters) still loads, through its public name."""
    from sklaudio.features import MelFeatures

    X = np.random.default_rng(0).normal(size=(6, 4000)).astype(np.float32)
    model = make_pipeline(MelFeatures(sr=8000), LogisticRegression()).fit(X, [0, 1] * 3)
    path = tmp_path / "moved.sklaudio"
    save_model(model, path)
    real = f"{MelFeatures.__module__}.MelFeatures"
    old_module = "sklaudio.features._old_mel"
    with zipfile.ZipFile(path) as zf:
        payload = zf.read("model.skops")
    inner = zipfile.ZipFile(io.BytesIO(payload))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for item in inner.infolist():
            content = inner.read(item.filename)
            if item.filename == "schema.json":
                content = content.replace(MelFeatures.__module__.encode(), old_module.encode())
            out.writestr(item.filename, content)
    meta = read_metadata(path)
    for rec in meta["sklaudio_classes"]:
        if rec["class"] == real:
            rec["class"] = f"{old_module}.MelFeatures"
    from sklaudio.deploy._bundle import _sha256

    meta["payload"]["model.skops"]["sha256"] = _sha256(buf.getvalue())
    _rewrite(path, member="model.skops", data=buf.getvalue(), meta=meta)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))


def test_pickle_only_when_asked(tmp_path):
    clf, path = _tiny(tmp_path, format="pickle")
    assert read_metadata(path)["serializer"] == "pickle"
    with pytest.raises(BundleError, match="allow_pickle=True"):
        load_model(path)
    loaded = load_model(path, allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict_proba([[1.4]]), clf.predict_proba([[1.4]]))


def test_save_refuses_bad_requests(tmp_path):
    _, path = _tiny(tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        _tiny(tmp_path)
    _tiny(tmp_path, overwrite=True)
    with pytest.raises(NotFittedError):
        save_model(LogisticRegression(), tmp_path / "unfitted.sklaudio")
    with pytest.raises(ValueError, match="format='zip'"):
        _tiny(tmp_path, "x.sklaudio", format="zip")
    with pytest.raises(TypeError, match=r"metadata\['when'\]"):
        _tiny(tmp_path, "y.sklaudio", metadata={"when": object()})
    with pytest.raises(ValueError, match="written by save_model"):
        _tiny(tmp_path, "z.sklaudio", metadata={"versions": "mine"})
    _, user = _tiny(tmp_path, "u.sklaudio", metadata={"owner": "team-a", "sr": 8000})
    meta = read_metadata(user)
    assert meta["user"] == {"owner": "team-a"} and meta["sr"] == 8000
    assert not (tmp_path / "unfitted.sklaudio").exists()


def test_drift_reference_is_stored_and_restored(tmp_path):
    import sklaudio.monitor as monitor_mod
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"rms_dbfs": rng.normal(-25, 3, 300), "snr_db": rng.normal(30, 5, 300)})
    monitor = monitor_mod.DriftMonitor(audio_quality=False).fit(ref)
    _, path = _tiny(tmp_path, reference=monitor)
    bundle = load_bundle(path)
    assert type(bundle.reference) is monitor_mod.DriftMonitor
    assert bundle.metadata["reference"]["class"].endswith("DriftMonitor")
    noisy = pd.DataFrame({"rms_dbfs": rng.normal(-25, 3, 100), "snr_db": rng.normal(10, 5, 100)})
    assert bundle.reference.test(noisy).to_dict() == monitor.test(noisy).to_dict()
    assert bundle.reference.test(noisy).drifted_features == ["snr_db"]
