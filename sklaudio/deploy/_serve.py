"""The HTTP prediction service: a Starlette app around a model bundle.

Starlette (with uvicorn as the server) rather than FastAPI: three endpoints need no
request models or generated docs, and Starlette is what FastAPI runs on, with fewer
dependencies. Everything a request sends stays in memory: the body is read up to a size
limit, multipart parts are split by python-multipart's streaming parser into bytes,
audio is decoded from memory by soundfile. Nothing is unpickled, evaluated or written.

The model runs in worker threads (``max_concurrency`` of them), so the event loop keeps
answering ``/health`` and refusing excess requests while it predicts. Requests that
wait while the workers are busy are predicted together in one call of the model: per
call, each audio step has a fixed cost, so under load batches give more throughput.
"""

import asyncio
import collections
import contextlib
import io
import threading
import time

from sklaudio.exceptions import AudioLoadError

__all__ = ["ServiceLimits", "make_app"]

_AUDIO_TYPES = ("audio/", "application/octet-stream")


class ServiceLimits:
    """Limits of the prediction service (every request is held in memory).

    Parameters
    ----------
    max_upload_mb : float, default=20
        Largest request body; larger ones get 413.
    max_duration_s : float, default=60
        Longest clip (from the file header, before decoding); longer ones get 413.
    max_concurrency : int, default=1
        Requests whose audio is decoded and predicted at once (threads).
    max_queue : int, default=16
        Requests that may wait for a thread; more get 503 at once. Memory is bounded by
        ``(max_concurrency + max_queue) * max_upload_mb`` plus the decoded audio.
    max_files : int, default=64
        Files in one multipart request.
    max_batch : int, default=16
        Clips predicted in one call of the model. Requests that wait while the workers
        are busy are predicted together (one call has less overhead than several);
        a lone request is never held back to form a batch.

    Examples
    --------
    >>> from sklaudio.deploy._serve import ServiceLimits
    >>> ServiceLimits(max_upload_mb=5).max_upload_bytes
    5242880
    """

    def __init__(self, *, max_upload_mb=20, max_duration_s=60, max_concurrency=1,
                 max_queue=16, max_files=64, max_batch=16):
        for name, value, low in [("max_upload_mb", max_upload_mb, 0),
                                 ("max_duration_s", max_duration_s, 0)]:
            if not value > low:
                raise ValueError(f"{name}={value}; expected a number > 0.")
        for name, value, low in [("max_concurrency", max_concurrency, 1),
                                 ("max_queue", max_queue, 0), ("max_files", max_files, 1),
                                 ("max_batch", max_batch, 1)]:
            if int(value) != value or value < low:
                raise ValueError(f"{name}={value}; expected an integer >= {low}.")
        self.max_upload_mb = float(max_upload_mb)
        self.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
        self.max_duration_s = float(max_duration_s)
        self.max_concurrency = int(max_concurrency)
        self.max_queue = int(max_queue)
        self.max_files = int(max_files)
        self.max_batch = int(max_batch)


class RequestError(Exception):
    """A request the service refuses: HTTP status and a message naming the part."""

    def __init__(self, status, message, part=None):
        super().__init__(message)
        self.status, self.message, self.part = status, message, part


def _parse_multipart(body, content_type, max_files):
    """Split a multipart body into (name, filename, content_type, bytes), in memory."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise RequestError(400, "multipart request without a boundary in its Content-Type")
    parts, state = [], {}

    def on_part_begin():
        state.update(headers={}, data=[], field=b"", value=b"")

    def on_header_field(data, start, end):
        state["field"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"][state["field"].lower().decode("latin-1")] = state["value"].decode(
            "latin-1")
        state["field"], state["value"] = b"", b""

    def on_part_data(data, start, end):
        state["data"].append(data[start:end])

    def on_part_end():
        disp, opts = parse_options_header(state["headers"].get("content-disposition", ""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        filename = opts.get(b"filename")
        filename = None if filename is None else filename.decode("utf-8", "replace")
        ptype = state["headers"].get("content-type", "application/octet-stream")
        parts.append((name, filename, ptype, b"".join(state["data"])))
        if len(parts) > max_files:
            raise RequestError(413, f"more than {max_files} files in one request; send "
                                    "fewer per request")

    callbacks = dict(on_part_begin=on_part_begin, on_header_field=on_header_field,
                     on_header_value=on_header_value, on_header_end=on_header_end,
                     on_part_data=on_part_data, on_part_end=on_part_end)
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except RequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser complaint is a bad request
        raise RequestError(400, f"malformed multipart body: {exc}") from exc
    return parts


def _check_part(runner, limits, label, ptype, data):
    """415 for a part that says it is not audio, 413 for one too long, else decode it."""
    import soundfile as sf

    base = ptype.split(";")[0].strip().lower()
    if not (base.startswith("audio/") or base == "application/octet-stream"):
        raise RequestError(415, f"{label} has content type {base!r}, not audio; send WAV, "
                                "FLAC, OGG or MP3 as audio/* (or application/octet-stream)",
                           label)
    if not data:
        raise RequestError(422, f"{label} is empty (0 bytes)", label)
    try:
        info = sf.info(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - libsndfile cannot read it
        detail = getattr(exc, "error_string", None) or type(exc).__name__
        raise RequestError(422, f"{label} is not audio that can be decoded (corrupt, "
                                f"truncated, or an unsupported format): {detail}",
                           label) from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise RequestError(422, f"{label} holds no audio (0 samples)", label)
    if info.duration > limits.max_duration_s:
        raise RequestError(413, f"{label} lasts {info.duration:.1f} s, more than the "
                                f"service's limit of {limits.max_duration_s:g} s", label)
    try:
        return runner.decode(data, label)
    except AudioLoadError as exc:
        raise RequestError(422, str(exc), label) from exc


def _decode_parts(runner, limits, parts):
    """Check and decode one request's parts (runs in a worker thread)."""
    clips, names = [], []
    for name, filename, ptype, data in parts:
        label = filename or name or "body"
        clips.append(_check_part(runner, limits, label, ptype, data))
        names.append(label)
    return clips, names


def _error(status, message, part=None, headers=None):
    """The JSON answer of a refused request: what went wrong and in which part."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message, "part": part, "status": status},
                        status_code=status, headers=headers)


async def _read_body(request, limits):
    """The request body, refused (413) as soon as it is over the upload limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_upload_bytes:
        raise RequestError(413, f"request body of {int(declared)} bytes is over the "
                                f"service's limit of {limits.max_upload_mb:g} MB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_upload_bytes:
            raise RequestError(413, f"request body is over the service's limit of "
                                    f"{limits.max_upload_mb:g} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _request_parts(request, limits):
    """The uploaded files as (name, filename, content type, bytes): the parts of a
    multipart upload, or the body itself for an ``audio/*`` request."""
    ctype = request.headers.get("content-type", "")
    base = ctype.split(";")[0].strip().lower()
    if base == "multipart/form-data":
        body = await _read_body(request, limits)
        parts = _parse_multipart(body, ctype, limits.max_files)
        parts = [p for p in parts if p[1] is not None or p[3]]
        if not parts:
            raise RequestError(422, "the multipart request holds no file")
        return parts
    if base.startswith(_AUDIO_TYPES):
        body = await _read_body(request, limits)
        return [(request.query_params.get("name", "body"), None, base, body)]
    raise RequestError(415, f"Content-Type {base or 'missing'!r} is not accepted: send "
                            "multipart/form-data with audio files, or one audio file as "
                            "the body with an audio/* type")


async def _batch_worker(pending, available, runner, limits, limiter, update_drift):
    """Predict what waits in ``pending``, several requests in one call of the model;
    then hand the clips predicted without error to ``update_drift`` (when not None)."""
    import anyio

    while True:
        await available.acquire()
        batch = [pending.popleft()]
        n_clips = len(batch[0][0])
        while pending and n_clips + len(pending[0][0]) <= limits.max_batch:
            await available.acquire()  # returns at once: one count per queued request
            batch.append(pending.popleft())
            n_clips += len(batch[-1][0])
        clips = [c for item in batch for c in item[0]]
        names = [n for item in batch for n in item[1]]
        try:
            rows = await anyio.to_thread.run_sync(runner.predict, clips, names,
                                                  limiter=limiter)
        except Exception as exc:  # noqa: BLE001 - each request gets the error
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            continue
        start = 0
        for item_clips, _, done in batch:
            if not done.done():  # a client that went away
                done.set_result(rows[start:start + len(item_clips)])
            start += len(item_clips)
        if update_drift is not None:  # after the answers: monitoring adds no latency
            ok = [c for c, r in zip(clips, rows) if r["error"] is None]
            if ok:
                await anyio.to_thread.run_sync(update_drift, ok, limiter=limiter)


class _DriftFeed:
    """The bundle's drift monitor fed with the served clips (one writer or reader of
    its window at a time); what ``GET /drift`` answers."""

    def __init__(self, monitor, sr, drift):
        self.monitor, self.sr, self.drift = monitor, sr, drift
        self.feeds = (drift and monitor is not None
                      and getattr(monitor, "features", None) is not None)
        self.lock = threading.Lock()
        self.last_error = None

    def update(self, clips):
        from sklaudio.utils._audio import wrap_clips

        with self.lock:
            try:
                self.monitor.update(wrap_clips(list(clips), self.sr))
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - monitoring never stops predicting
                self.last_error = f"{type(exc).__name__}: {exc}"

    def refusal(self):
        """(status, message) when there is no report to give, else None."""
        if self.monitor is None:
            return 404, ("this model bundle has no drift reference; save it with "
                         "save_model(..., reference=DriftMonitor(features=...).fit(X))")
        if not self.feeds:
            return 409, ("the service was started without drift monitoring" if not self.drift
                         else "the bundle's DriftMonitor compares feature tables "
                         "(features=None), and the service has audio: fit it with "
                         "features= the model's feature steps")
        if len(self.monitor.window_) == 0:
            return 409, "no clip has been predicted yet: the drift window is empty"
        return None

    def report(self):
        with self.lock:
            report = self.monitor.test().to_dict()
        report["last_update_error"] = self.last_error
        return report


def make_app(bundle, *, limits=None, drift=True):
    """Build the prediction service (an ASGI app) for a loaded bundle.

    Endpoints: ``POST /predict`` (multipart upload of one or several audio files, or
    one file as the body with an ``audio/*`` content type) answers
    ``{"predictions": [row, ...]}`` with the rows of ``sklaudio predict`` (``input``,
    ``prediction``, ``proba``, ``quality``, ``duration_s``, ``error``); ``GET /health``;
    ``GET /model`` (the bundle's metadata); ``GET /drift``: the bundle's drift monitor
    (:class:`sklaudio.monitor.DriftMonitor` stored with ``save_model(...,
    reference=...)``) fed with the audio of recent requests, as its report's
    ``to_dict()``. Errors are JSON ``{"error": ..., "part": ..., "status": ...}``: 415
    for a part that is not audio, 413 for a body or clip over the limits, 422 for empty
    or corrupt audio, 503 when the queue is full.

    Parameters
    ----------
    bundle : Bunch
        From :func:`~sklaudio.deploy.load_bundle` (``estimator`` and ``metadata``).
    limits : ServiceLimits, default=None
        Upload size, clip duration, concurrency; defaults when None.
    drift : bool, default=True
        Feed the bundle's drift monitor (when it has one that takes audio) with each
        predicted clip. It computes its own features: this costs about one more
        feature extraction per clip, done after the answer is sent.

    Returns
    -------
    app : starlette.applications.Starlette
        Serve it with uvicorn (``sklaudio serve`` does).

    See Also
    --------
    sklaudio.deploy.load_bundle : Load the bundle to serve.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklaudio.deploy import load_bundle, save_model
    >>> from sklaudio.deploy._serve import make_app
    >>> from sklaudio.features import MelFeatures
    >>> import numpy as np
    >>> clips = np.random.default_rng(0).normal(size=(4, 8000)).astype(np.float32)
    >>> model = make_pipeline(MelFeatures(sr=8000), LogisticRegression())
    >>> model = model.fit(clips, [0, 0, 1, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> _ = save_model(model, path)
    >>> app = make_app(load_bundle(path))
    >>> [route.path for route in app.routes]
    ['/predict', '/health', '/model', '/drift']
    """
    # one BLAS thread for the whole process, set here in the thread that builds the app:
    # requests run in other threads, and OpenBLAS's thread count set from one thread
    # while another computes changes the last bits of a float32 matrix product, so the
    # same clip could get other numbers than in process. Concurrency comes from requests.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)

    # the endpoints are closures over one runner, one drift window and the limits
    import anyio
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from sklaudio.deploy._predict import ModelRunner

    limits = ServiceLimits() if limits is None else limits
    runner = ModelRunner(bundle.estimator, bundle.metadata)
    metadata = bundle.metadata
    limiter = anyio.CapacityLimiter(limits.max_concurrency)
    # decoded requests waiting for the model, (clips, names, future); the semaphore
    # counts them, so a worker sleeps until there is one
    pending, available = collections.deque(), asyncio.Semaphore(0)
    state = {"admitted": 0, "served": 0, "refused": 0, "started": time.time()}
    feed = _DriftFeed(getattr(bundle, "reference", None), runner.sr, drift)

    async def predict(request):
        # admission before reading the body: memory stays bounded under any load
        if state["admitted"] >= limits.max_concurrency + limits.max_queue:
            state["refused"] += 1
            return _error(503, "the service is busy; retry shortly",
                          headers={"Retry-After": "1"})
        state["admitted"] += 1
        try:
            parts = await _request_parts(request, limits)
            clips, names = await anyio.to_thread.run_sync(_decode_parts, runner, limits,
                                                          parts, limiter=limiter)
            done = asyncio.get_running_loop().create_future()
            pending.append((clips, names, done))
            available.release()
            rows = await done
        except RequestError as exc:
            return _error(exc.status, exc.message, exc.part)
        except Exception as exc:  # noqa: BLE001 - the service keeps serving
            return _error(500, f"prediction failed: {type(exc).__name__}: {exc}")
        finally:
            state["admitted"] -= 1
        state["served"] += 1
        return JSONResponse({"predictions": rows})

    async def health(request):
        return JSONResponse({"status": "ok", "in_flight": state["admitted"],
                             "served": state["served"], "refused_busy": state["refused"],
                             "uptime_s": round(time.time() - state["started"], 1)})

    async def model(request):
        return JSONResponse(metadata)

    async def drift_endpoint(request):
        refused = feed.refusal()
        if refused is not None:
            return _error(*refused)
        try:
            report = await anyio.to_thread.run_sync(feed.report, limiter=limiter)
        except Exception as exc:  # noqa: BLE001 - e.g. too few clips for a test
            return _error(409, f"drift test failed: {type(exc).__name__}: {exc}")
        return JSONResponse(report)

    async def not_allowed(request, exc):
        return _error(getattr(exc, "status_code", 500), str(getattr(exc, "detail", exc)))

    from starlette.exceptions import HTTPException

    routes = [Route("/predict", predict, methods=["POST"]),
              Route("/health", health, methods=["GET"]),
              Route("/model", model, methods=["GET"]),
              Route("/drift", drift_endpoint, methods=["GET"])]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        workers = [asyncio.create_task(_batch_worker(pending, available, runner, limits, limiter,
                                                     feed.update if feed.feeds else None))
                   for _ in range(limits.max_concurrency)]
        try:
            yield
        finally:
            for task in workers:
                task.cancel()

    return Starlette(routes=routes, exception_handlers={HTTPException: not_allowed},
                     lifespan=lifespan)


def serve(bundle, *, host="127.0.0.1", port=8000, limits=None, drift=True,
          log_level="warning"):
    """Run the service with uvicorn until interrupted (what ``sklaudio serve`` does)."""
    import uvicorn

    app = make_app(bundle, limits=limits, drift=drift)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()



@contextlib.contextmanager
def _serve_in_subprocess(bundle_path, *options, log=None, env=None, timeout=180):
    """Run ``python -m sklaudio serve`` on a free local port; yield ``(url, process)``
    once ``GET /health`` answers, and stop the process on exit (tests and benchmarks).

    ``log`` is a file for the server's output (quoted in the error when it does not
    start); ``timeout`` is generous because a loaded machine imports slowly.
    """
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    out = open(log, "w") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "sklaudio", "serve", str(bundle_path), "--port", str(port),
         *map(str, options)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:  # not listening yet
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                said = "" if log is None else open(log).read()[-2000:]
                raise RuntimeError(f"the server did not start (status {proc.poll()}). {said}")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not None:
            out.close()
