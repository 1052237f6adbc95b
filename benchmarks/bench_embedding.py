"""SpeakerEmbedding vs Resemblyzer's own VoiceEncoder.embed_utterance, file by file.

Run from the project root (needs the extra: ``pip install -e ".[embed]"``)::

    .venv/bin/python benchmarks/bench_embedding.py            # 20 LibriSpeech files
    .venv/bin/python benchmarks/bench_embedding.py --n 40 --repeat 5

Both sides embed the same clips already in memory (16 kHz, raised to -30 dBFS as
Resemblyzer's preprocess_wav does; its webrtcvad pause removal is left out on both
sides) on one core (PyTorch and BLAS threads pinned to 1), timed in CPU seconds of
this process. Printed: medians over ``--repeat`` runs, "x realtime" per core, the
ratio, and the largest difference between the two embeddings.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_features import _timed  # noqa: E402  (median CPU seconds of repeated runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(os.environ.get(
        "SKLAUDIO_DATA", ROOT.parent / "shared" / "data")) / "librispeech-251"))
    parser.add_argument("--n", type=int, default=20, help="number of files (default 20)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    # resemblyzer's package imports webrtcvad (for the VAD we leave out), which needs
    # pkg_resources; a stub is enough for embed_utterance
    sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume

    from sklaudio.features import SpeakerEmbedding
    from sklaudio.io import load_audio_batch

    files = sorted(Path(args.data).glob("*.flac"))[: args.n]
    if not files:
        sys.exit(f"no .flac files in {args.data}")
    clips = [normalize_volume(c, -30, increase_only=True)
             for c in load_audio_batch([str(f) for f in files], sr=16000)]
    audio_s = sum(len(c) for c in clips) / 16000
    print(f"{len(files)} files of {args.data}: {audio_s:.1f} s of audio; one core, CPU "
          f"time; median of {args.repeat} run(s); load average {os.getloadavg()[0]:.1f}")

    enc = VoiceEncoder("cpu", verbose=False)
    ours = SpeakerEmbedding(sr=16000, n_jobs=1).fit(clips[:1])
    ours.transform(clips[:1])  # warm-up: weights, mel filterbank
    enc.embed_utterance(clips[0])
    t_ref, ref = _timed(lambda: np.array([enc.embed_utterance(c) for c in clips]), args.repeat)
    t_ours, out = _timed(lambda: ours.transform(clips), args.repeat)
    for name, t in (("resemblyzer embed_utterance loop", t_ref), ("SpeakerEmbedding", t_ours)):
        print(f"  {name:<34s} {t:7.2f} s  {audio_s / t:7.1f}x realtime")
    print(f"  ratio (higher = sklaudio faster):  {t_ref / t_ours:.2f}x")
    print(f"  largest |difference| of the embeddings: {np.abs(out - ref).max():.1e}")


if __name__ == "__main__":
    main()
