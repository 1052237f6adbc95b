"""``sklaudio serve``: an HTTP prediction service for a saved model bundle."""

import sys

from sklaudio.cli._common import CLIError, add_trusted_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "serve",
        help="serve a saved model over HTTP (needs pip install 'sklaudio[serve]')",
        description=(
            "Serve a model bundle (sklaudio.save_model) over HTTP. POST /predict takes one "
            "or several audio files as a multipart upload, or one file as the body with an "
            "audio/* content type, and answers JSON with the fields of `sklaudio predict`; "
            "GET /health; GET /model gives the bundle's metadata; GET /drift the drift "
            "report of recent requests (when the bundle has a DriftMonitor). Uploads stay "
            "in memory and are decoded by soundfile: nothing a request sends is unpickled, "
            "evaluated or written. Errors are JSON naming the part: 415 not audio, 413 "
            "over a limit, 422 empty or corrupt audio, 503 busy."
        ),
    )
    p.add_argument("model", help="model bundle written by sklaudio.save_model")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; 0.0.0.0 for every interface (default: "
                        "127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    p.add_argument("--max-upload-mb", type=float, default=20.0,
                   help="largest request body in MB, 413 above (default: 20)")
    p.add_argument("--max-duration-s", type=float, default=60.0,
                   help="longest clip in seconds, 413 above (default: 60)")
    p.add_argument("--max-concurrency", type=int, default=1,
                   help="model calls at once (worker threads); the audio steps hold "
                        "Python's lock much of the time, so more threads mostly contend "
                        "(default: 1)")
    p.add_argument("--max-queue", type=int, default=32,
                   help="requests that may wait for a worker; more get 503 at once "
                        "(default: 32)")
    p.add_argument("--max-batch", type=int, default=16,
                   help="clips predicted in one call of the model (requests that wait "
                        "while the workers are busy are batched; default: 16)")
    p.add_argument("--no-drift", action="store_true",
                   help="do not feed the bundle's drift monitor (GET /drift) with the "
                        "predicted clips; it costs about one more feature extraction each "
                        "(default: feed it)")
    add_trusted_option(p)
    p.add_argument("--log-level", default="warning",
                   choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level; info logs every request (default: warning)")
    p.set_defaults(func=run)
    return p


def run(args):
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise CLIError(f"sklaudio serve needs the web stack ({exc.name} is missing): "
                       "pip install 'sklaudio[serve]'") from exc
    from sklaudio.deploy import load_bundle
    from sklaudio.deploy._serve import ServiceLimits, serve

    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port {args.port}: give a TCP port between 0 and 65535")
    limits = ServiceLimits(max_upload_mb=args.max_upload_mb,
                           max_duration_s=args.max_duration_s,
                           max_concurrency=args.max_concurrency, max_queue=args.max_queue,
                           max_batch=args.max_batch)
    bundle = load_bundle(args.model, trusted=args.trusted)
    print(f"sklaudio serve: {args.model} on http://{args.host}:{args.port} "
          "(POST /predict, GET /health, GET /model, GET /drift; Ctrl-C stops)",
          file=sys.stderr, flush=True)
    serve(bundle, host=args.host, port=args.port, limits=limits, drift=not args.no_drift,
          log_level=args.log_level)
    return 0
