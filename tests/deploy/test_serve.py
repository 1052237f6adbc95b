"""The HTTP service: the real server in a subprocess on a free localhost port."""

import io
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from sklaudio.deploy import read_metadata
from sklaudio.deploy._serve import _serve_in_subprocess
from tests.deploy.conftest import clips_of, quality_flags

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

MAX_UPLOAD_MB = 1.0
MAX_DURATION_S = 4.0


@pytest.fixture(scope="module")
def server(gender_bundle, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with _serve_in_subprocess(
            gender_bundle, "--max-upload-mb", MAX_UPLOAD_MB, "--max-duration-s", MAX_DURATION_S,
            "--max-concurrency", 2, "--max-queue", 16, log=log,
            env={**os.environ, "PYTHONWARNINGS": "ignore"}) as (url, _):
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client


@pytest.fixture(scope="module")
def expected(gender_model, voices):
    """In-process answers, one file at a time as the service predicts them."""
    return {p: gender_model.predict_proba([p])[0] for p in voices.paths}


def _proba(row):
    return np.array([row["proba"]["female"], row["proba"]["male"]])


def _alive(server):
    r = server.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_every_audio_format_equals_in_process(server, gender_model, voices, tmp_path):
    clip = clips_of(voices.paths[:1])[0]
    formats = {"wav": {}, "flac": {}, "ogg": {"subtype": "VORBIS"}}
    if "MP3" in sf.available_formats():
        formats["mp3"] = {"format": "MP3"}
    for ext, kwargs in formats.items():
        path = tmp_path / f"clip.{ext}"
        sf.write(path, clip, 16000, **kwargs)
        with open(path, "rb") as f:
            r = server.post("/predict", files={"file": (path.name, f, f"audio/{ext}")})
        assert r.status_code == 200, r.text
        (row,) = r.json()["predictions"]
        assert row["input"] == path.name and row["error"] is None
        want = gender_model.predict_proba([str(path)])[0]
        np.testing.assert_allclose(_proba(row), want, rtol=1e-12, atol=1e-15, err_msg=ext)
        assert row["prediction"] == gender_model.classes_[want.argmax()]
        assert row["duration_s"] == pytest.approx(sf.info(path).duration, abs=2e-3)


def test_several_files_and_raw_body(server, voices, expected):
    paths = voices.paths[:3]
    files = [("files", (os.path.basename(p), open(p, "rb"), "audio/wav")) for p in paths]
    try:
        r = server.post("/predict", files=files)
    finally:
        for _, (_, f, _) in files:
            f.close()
    assert r.status_code == 200, r.text
    rows = r.json()["predictions"]
    assert [row["input"] for row in rows] == [os.path.basename(p) for p in paths]
    assert [row["quality"] for row in rows] == quality_flags(clips_of(paths))
    for row, p in zip(rows, paths):
        np.testing.assert_allclose(_proba(row), expected[p], rtol=1e-12, atol=1e-15)
    with open(paths[1], "rb") as f:
        r = server.post("/predict", content=f.read(), headers={"Content-Type": "audio/wav"})
    assert r.status_code == 200
    np.testing.assert_allclose(_proba(r.json()["predictions"][0]), expected[paths[1]],
                               rtol=1e-12, atol=1e-15)


def test_model_and_health(server, gender_bundle):
    assert server.get("/model").json() == read_metadata(gender_bundle)
    _alive(server)


def _wav_bytes(y, sr):
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV")
    return buf.getvalue()


def test_errors_name_the_part_and_the_server_keeps_serving(server, voices):
    good = open(voices.paths[0], "rb").read()
    long_clip = _wav_bytes(np.zeros(int(8000 * (MAX_DURATION_S + 1)), np.float32), 8000)
    cases = [
        # (request kwargs, status, part named)
        (dict(files=[("a", ("a.wav", good, "audio/wav")),
                     ("notes", ("notes.txt", b"hello", "text/plain"))]), 415, "notes.txt"),
        (dict(content=b"hello", headers={"Content-Type": "text/plain"}), 415, None),
        (dict(files=[("a", ("noise.wav", os.urandom(4000), "audio/wav"))]), 422, "noise.wav"),
        (dict(files=[("a", ("empty.wav", b"", "audio/wav"))]), 422, "empty.wav"),
        (dict(content=b"", headers={"Content-Type": "audio/wav"}), 422, "body"),
        (dict(files=[("a", ("long.wav", long_clip, "audio/wav"))]), 413, "long.wav"),
        (dict(content=os.urandom(int(1.5 * MAX_UPLOAD_MB * 2**20)),
              headers={"Content-Type": "audio/wav"}), 413, None),
    ]
    for kwargs, status, part in cases:
        r = server.post("/predict", **kwargs)
        assert r.status_code == status, (kwargs.get("headers"), r.text)
        body = r.json()
        assert body["status"] == status and body["error"]
        assert body["part"] == part
        if part is not None:
            assert part in body["error"]
        _alive(server)
    assert server.get("/predict").status_code == 405
    r = server.post("/predict", files=[("a", ("a.wav", good, "audio/wav"))])
    assert r.status_code == 200


def test_hundred_requests_eight_in_flight(server, gender_model, voices, tmp_path):
    # the voices cut to 0.6 s (with their leading pause), to keep the test short
    paths = []
    for i, clip in enumerate(clips_of(voices.paths)):
        paths.append(str(tmp_path / f"short{i}.wav"))
        sf.write(paths[-1], clip[:9600], 16000, subtype="FLOAT")
    expected = {p: gender_model.predict_proba([p])[0] for p in paths}
    data = {p: open(p, "rb").read() for p in paths}
    order = [paths[i % len(paths)] for i in range(100)]

    def send(p):
        r = server.post("/predict", files={"f": (os.path.basename(p), data[p], "audio/wav")})
        return p, r.status_code, r.json()

    served_before = server.get("/health").json()["served"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, order))
    assert [a[1] for a in answers] == [200] * 100
    for p, _, body in answers:
        (row,) = body["predictions"]
        assert row["input"] == os.path.basename(p)
        np.testing.assert_allclose(_proba(row), expected[p], rtol=1e-12, atol=1e-15)
    health = server.get("/health").json()
    assert health["served"] - served_before == 100 and health["in_flight"] == 0


def test_drift_endpoint_feeds_the_bundles_monitor(gender_model, gender_bundle, voices,
                                                  tmp_path):
    """In process (Starlette's test client): GET /drift is the stored DriftMonitor fed
    with the clips the service predicted, as the same monitor fed by hand reports."""
    from starlette.testclient import TestClient

    from sklaudio.deploy import load_bundle, save_model
    from sklaudio.deploy._serve import make_app
    from sklaudio.monitor import DriftMonitor
    from sklaudio.utils._audio import wrap_clips

    monitor = DriftMonitor(features=gender_model[:4], audio_quality=False)
    monitor.fit(voices.paths)
    path = tmp_path / "with_reference.sklaudio"
    save_model(gender_model, path, reference=monitor)
    sent = voices.paths[:3]
    with TestClient(make_app(load_bundle(path))) as client:
        r = client.get("/drift")
        assert r.status_code == 409 and "empty" in r.json()["error"]
        for p in sent:
            with open(p, "rb") as f:
                assert client.post("/predict", files={"f": ("a.wav", f, "audio/wav")}
                                   ).status_code == 200
        report = client.get("/drift").json()
    by_hand = load_bundle(path).reference
    by_hand.update(wrap_clips(clips_of(sent), 16000))
    expected = by_hand.test().to_dict()
    assert report["n_current"] == 3 and report["n_reference"] == len(voices.paths)
    assert report["last_update_error"] is None
    assert report["drifted_features"] == expected["drifted_features"]
    got = {row["feature"]: row for row in report["features"]}
    for row in expected["features"]:
        for key, value in row.items():
            if isinstance(value, float):
                assert got[row["feature"]][key] == pytest.approx(value, rel=1e-9, abs=1e-12)
    with TestClient(make_app(load_bundle(gender_bundle))) as client:
        r = client.get("/drift")
        assert r.status_code == 404 and "reference=" in r.json()["error"]


class _GatedModel:
    """A classifier whose predict waits until the test opens the gate."""

    def __init__(self):
        import threading

        self.gate = threading.Event()
        self.classes_ = np.array(["a", "b"])

    def predict(self, X):
        assert self.gate.wait(timeout=60)
        return np.array(["a"] * len(X))

    def predict_proba(self, X):
        return np.tile([1.0, 0.0], (len(X), 1))


def test_excess_requests_get_503_and_memory_stays_bounded(tmp_path):
    """One request in the model, no queue: a second one is refused at once with 503."""
    import threading

    from sklearn.utils import Bunch
    from starlette.testclient import TestClient

    from sklaudio.deploy._serve import ServiceLimits, make_app

    model = _GatedModel()
    bundle = Bunch(estimator=model, metadata={"sr": 8000}, reference=None)
    body = _wav_bytes(0.1 * np.sin(np.arange(8000) / 5.0).astype(np.float32), 8000)
    limits = ServiceLimits(max_concurrency=1, max_queue=0)
    with TestClient(make_app(bundle, limits=limits)) as client:
        first = {}
        sender = threading.Thread(target=lambda: first.update(r=client.post(
            "/predict", content=body, headers={"Content-Type": "audio/wav"})))
        sender.start()
        deadline = time.monotonic() + 30
        while client.get("/health").json()["in_flight"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        r = client.post("/predict", content=body, headers={"Content-Type": "audio/wav"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert "busy" in r.json()["error"]
        model.gate.set()
        sender.join(timeout=60)
        assert first["r"].status_code == 200
        assert first["r"].json()["predictions"][0]["prediction"] == "a"
        health = client.get("/health").json()
        assert health["refused_busy"] == 1 and health["in_flight"] == 0
