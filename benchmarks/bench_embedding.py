"""SpeakerEmbedding (numpy) vs Resemblyzer's own VoiceEncoder.embed_utterance and vs
the same encoder batched on PyTorch (sklaudio's previous implementation).

Run from the project root::

    .venv/bin/python benchmarks/bench_embedding.py            # 20 LibriSpeech files
    .venv/bin/python benchmarks/bench_embedding.py --n 40 --repeat 5

SpeakerEmbedding needs only the weights (``pip install --no-deps resemblyzer``); the
two references need PyTorch and are skipped without it. All sides embed the same clips
already in memory (16 kHz, raised to -30 dBFS as Resemblyzer's preprocess_wav does;
its webrtcvad pause removal is left out on all sides) on one core (PyTorch and BLAS
threads pinned to 1), timed in CPU seconds of this process. Printed: medians over
``--repeat`` runs, "x realtime" per core, the ratios, the largest difference between
the embeddings, and the peak memory of each side (tracemalloc: numpy's arrays, not
PyTorch's own allocations).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_features import _timed  # noqa: E402  (median CPU seconds of repeated runs)


def _peak_mb(func):
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _torch_batched(torch):
    """sklaudio's previous SpeakerEmbedding._encode: torch.nn.LSTM over batches of 64
    partials, projection in float64 numpy."""
    from sklaudio.features import _embedding as E

    state = torch.load(E._weights_path(), map_location="cpu", weights_only=True)
    state = state["model_state"]
    lstm = torch.nn.LSTM(E._N_MELS, E._N_DIMS, 3, batch_first=True)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    lstm.eval()
    weight, bias = (state["linear.weight"].double().numpy(),
                    state["linear.bias"].double().numpy())

    def embed(clips):
        partials = [E._clip_partials(c, 1.3, 0.75) for c in clips]
        mels = np.concatenate(partials)
        out = []
        with torch.inference_mode():
            for i in range(0, len(mels), 64):
                _, (hidden, _) = lstm(torch.from_numpy(mels[i : i + 64]))
                out.append(hidden[-1].numpy())
        e = np.maximum(np.concatenate(out).astype(np.float64) @ weight.T + bias, 0.0)
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        first = np.cumsum([0] + [len(p) for p in partials[:-1]])
        sums = np.add.reduceat(e, first, axis=0)
        return sums / np.linalg.norm(sums, axis=1, keepdims=True)

    return embed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(os.environ.get(
        "SKLAUDIO_DATA", ROOT.parent / "shared" / "data")) / "librispeech-251"))
    parser.add_argument("--n", type=int, default=20, help="number of files (default 20)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from sklaudio.features import SpeakerEmbedding
    from sklaudio.io import load_audio_batch

    files = sorted(Path(args.data).glob("*.flac"))[: args.n]
    if not files:
        sys.exit(f"no .flac files in {args.data}")
    clips = []
    for c in load_audio_batch([str(f) for f in files], sr=16000):
        power = np.mean(c.astype(np.float64) ** 2)  # Resemblyzer's normalize_volume
        gain_db = -30 - 10 * np.log10(power)
        clips.append((c * 10 ** (max(gain_db, 0) / 20)).astype(np.float32))
    audio_s = sum(len(c) for c in clips) / 16000
    print(f"{len(files)} files of {args.data}: {audio_s:.1f} s of audio; one core, CPU "
          f"time; median of {args.repeat} run(s); load average {os.getloadavg()[0]:.1f}")

    ours = SpeakerEmbedding(sr=16000, n_jobs=1).fit(clips[:1])
    ours.transform(clips[:1])  # warm-up: weights, mel filterbank
    sides = {}
    try:
        import torch
    except ImportError:
        print("  (PyTorch is not installed: the two references are skipped)")
    else:
        torch.set_num_threads(1)
        # resemblyzer's package imports webrtcvad (for the VAD we leave out), which
        # needs a C compiler to install; a stub is enough for embed_utterance
        sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))
        from resemblyzer import VoiceEncoder

        enc = VoiceEncoder("cpu", verbose=False)
        enc.embed_utterance(clips[0])
        sides["resemblyzer embed_utterance loop"] = (
            lambda: np.array([enc.embed_utterance(c) for c in clips]))
        sides["PyTorch LSTM, batches of 64"] = lambda f=_torch_batched(torch): f(clips)
    sides["SpeakerEmbedding (numpy)"] = lambda: ours.transform(clips)

    times, outs = {}, {}
    for name, func in sides.items():
        times[name], outs[name] = _timed(func, args.repeat)
        print(f"  {name:<34s} {times[name]:7.2f} s  {audio_s / times[name]:7.1f}x realtime"
              f"  peak {_peak_mb(func):6.1f} MB")
    ours_t, ours_out = times.pop("SpeakerEmbedding (numpy)"), outs.pop("SpeakerEmbedding (numpy)")
    for name, t in times.items():
        print(f"  ratio vs {name} (higher = numpy faster): {t / ours_t:.2f}x; largest "
              f"|difference| {np.abs(ours_out - outs[name]).max():.1e}")


if __name__ == "__main__":
    main()
