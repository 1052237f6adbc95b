"""Tests of SpeakerEmbedding: Resemblyzer's own encoder (on PyTorch, when installed) as
the reference, PyTorch's own loader for the checkpoint reader, real speakers."""

import collections
import io
import os
import pickle
import subprocess
import sys
import types
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from sklaudio.exceptions import ParameterError
from sklaudio.features import SpeakerEmbedding
from sklaudio.features._embedding import _read_torch_checkpoint
from sklaudio.io import load_audio_batch
from tests.conftest import harmonic, require_data


@pytest.fixture(scope="module")
def voice_encoder():
    """resemblyzer's embed_utterance after its volume normalisation; webrtcvad (its VAD,
    not used by embed_utterance) is stubbed because it imports pkg_resources, which
    recent setuptools no longer has. Needs PyTorch, which SpeakerEmbedding does not."""
    pytest.importorskip("torch")
    sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume

    enc = VoiceEncoder("cpu", verbose=False)
    return lambda y, **kw: enc.embed_utterance(normalize_volume(y, -30, increase_only=True),
                                               **kw)


def test_equals_resemblyzer_embed_utterance(voice_encoder, speechlike):
    """Check each row against resemblyzer on clips shorter than one partial, several
    partials long, quiet (raised to -30 dBFS) and loud (left alone)."""
    clips = [
        speechlike(f0=110, duration=0.9, seed=1),
        speechlike(f0=210, duration=3.7, formants=(850, 1900, 3000), seed=2),
        0.01 * speechlike(f0=150, duration=2.2, seed=3),
        0.9 * harmonic(180, duration=1.7),
    ]
    ours = SpeakerEmbedding(sr=16000).fit_transform(clips)
    ref = np.array([voice_encoder(c.astype(np.float32)) for c in clips])
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("rate, min_coverage", [(0.625, 0.75), (2.5, 0.3)])
def test_partial_settings_follow_resemblyzer(rate, min_coverage, voice_encoder, speechlike):
    y = speechlike(f0=130, duration=4.3, seed=5).astype(np.float32)
    ref = voice_encoder(y, rate=rate, min_coverage=min_coverage)
    ours = SpeakerEmbedding(sr=16000, rate=rate, min_coverage=min_coverage).fit_transform([y])
    np.testing.assert_allclose(ours[0], ref, atol=1e-5)


def test_silence_and_matrix_input_are_finite_and_ordered(speechlike):
    """Check an all-zero clip gives a finite row, a float32 matrix keeps its dtype, and
    rows follow the input order."""
    a = speechlike(f0=110, duration=1.0, seed=1)
    b = speechlike(f0=240, duration=1.0, seed=2)
    X = np.stack([a, np.zeros_like(a), b]).astype(np.float32)
    emb = SpeakerEmbedding(sr=16000).fit(X)
    out = emb.transform(X)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(emb.transform(X[[2, 0]]), out[[2, 0]], atol=1e-6)


def test_pickle_leaves_the_model_out_and_predicts_the_same(speechlike):
    clips = [speechlike(f0=120, duration=1.2, seed=s) for s in range(2)]
    emb = SpeakerEmbedding(sr=16000).fit(clips)
    blob = pickle.dumps(emb)
    assert len(blob) < 2000  # the 17 MB of weights are not in the estimator
    np.testing.assert_array_equal(pickle.loads(blob).transform(clips), emb.transform(clips))


def test_cacheable_because_fit_learns_nothing(speechlike):
    """The cached grid search may reuse its output: fitting on other clips changes
    nothing."""
    from sklaudio.model_selection import is_cacheable

    clips = [speechlike(f0=120, duration=1.0, seed=s) for s in range(2)]
    other = [speechlike(f0=230, duration=2.0, seed=9)]
    assert is_cacheable(SpeakerEmbedding())
    np.testing.assert_array_equal(SpeakerEmbedding(sr=16000).fit(other).transform(clips),
                                  SpeakerEmbedding(sr=16000).fit(clips).transform(clips))


def test_wrong_rate_and_bad_parameters_are_named():
    with pytest.raises(ParameterError, match=r"16 kHz.*sr=8000.*AudioLoader\(sr=16000\)"):
        SpeakerEmbedding(sr=8000).fit([np.zeros(800)])
    with pytest.raises(InvalidParameterError, match="rate"):
        SpeakerEmbedding(sr=16000, rate=0.5).fit([np.zeros(800)])
    with pytest.raises(InvalidParameterError, match="min_coverage"):
        SpeakerEmbedding(sr=16000, min_coverage=0).fit([np.zeros(800)])


def test_names_and_pandas_output(speechlike):
    emb = SpeakerEmbedding(sr=16000).set_output(transform="pandas")
    df = emb.fit_transform([speechlike(duration=0.5)])
    assert list(df.columns[:2]) == ["embedding_000", "embedding_001"] and df.shape == (1, 256)


def test_same_speaker_is_nearest_on_real_speech():
    """speechocean762 has two clips per speaker: for 30 speakers (children and adults),
    the nearest other clip by cosine is the same speaker's for most clips."""
    root = require_data("speechocean762")
    m = pd.read_csv(root / "manifest.csv")
    speakers = m.speaker.drop_duplicates().iloc[::4][:30]
    m = m[m.speaker.isin(speakers)].reset_index(drop=True)
    clips = load_audio_batch([str(root / p) for p in m.path], sr=16000)
    E = SpeakerEmbedding().fit_transform(clips)
    sim = E @ E.T
    np.fill_diagonal(sim, -np.inf)
    hit = m.speaker.to_numpy()[sim.argmax(axis=1)] == m.speaker.to_numpy()
    print("same-speaker nearest", hit.mean())
    assert hit.mean() >= 0.8, hit.mean()


def test_gender_of_real_speakers_from_embeddings():
    """librispeech-251, 60 speakers (4 s of each): a logistic regression on the
    embeddings tells women from men in 5-fold CV."""
    root = require_data("librispeech-251")
    m = pd.read_csv(root / "manifest.csv")
    m = pd.concat([m[m.gender == g].head(30) for g in ("female", "male")])
    clips = [c[: 4 * 16000] for c in load_audio_batch([str(root / p) for p in m.path], sr=16000)]
    E = SpeakerEmbedding(sr=16000).fit_transform(clips)
    acc = cross_val_score(LogisticRegression(C=1.0, max_iter=2000), E, m.gender,
                          cv=StratifiedKFold(5, shuffle=True, random_state=0))
    print("gender accuracy", acc.mean())
    assert acc.mean() >= 0.9, acc


# a finder that refuses some top-level packages, as if they were not installed
# (sys.modules['torch'] = None would confuse scipy's array-API helpers, which look it up)
_REFUSE = (
    "import sys\n"
    "class Refuse:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {refused!r}:\n"
    "            raise ImportError('No module named ' + name)\n"
    "sys.meta_path.insert(0, Refuse())\n"
)


def _run_without(refused, code):
    return subprocess.run([sys.executable, "-c", _REFUSE.format(refused=refused) + code],
                          capture_output=True, text=True, check=True).stdout


def test_runs_without_pytorch(speechlike, tmp_path):
    """Check that the embedding needs neither PyTorch nor resemblyzer's imports, and
    gives the same rows as in this process."""
    clips = [speechlike(f0=120, duration=2.0, seed=1), speechlike(f0=230, duration=0.7)]
    np.save(tmp_path / "clips.npy", np.stack([np.pad(c, (0, 32000 - len(c))) for c in clips]))
    code = (
        "import numpy as np\n"
        "from sklaudio.features import SpeakerEmbedding\n"
        f"X = np.load({str(tmp_path / 'clips.npy')!r})\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, SpeakerEmbedding(sr=16000).fit_transform(X))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'resemblyzer', "
        "'webrtcvad')))\n"
    )
    assert _run_without(("torch", "webrtcvad"), code).strip() == "[]"
    X = np.load(tmp_path / "clips.npy")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"),
                               SpeakerEmbedding(sr=16000).fit_transform(X), atol=1e-6)


def test_missing_weights_name_the_install_command_in_fit_not_at_import():
    """Check that sklaudio imports and builds the default pipeline without the weights
    package, and that SpeakerEmbedding.fit says the exact command that installs them."""
    code = (
        "from sklaudio.experiment import make_age_gender_pipeline\n"
        "from sklaudio.features import SpeakerEmbedding\n"
        "make_age_gender_pipeline()\n"
        "try:\n"
        "    SpeakerEmbedding(sr=16000).fit([[0.0] * 100])\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = _run_without(("torch", "resemblyzer"), code)
    assert "SpeakerEmbedding needs the encoder weights" in out
    assert out.strip().endswith("pip install --no-deps resemblyzer"), out


def _torch_checkpoint_objects(torch):
    """Tensors of several dtypes, shapes and layouts (a transposed view, a slice with a
    storage offset sharing its storage, a 0-d tensor, an empty one) in nested containers."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(5, 7, generator=g)
    return {
        "model_state": collections.OrderedDict([
            ("w", base),
            ("w_t", base.t()),  # non-contiguous strides
            ("tail", base[2:, 3:]),  # same storage, offset 17
            ("scalar", torch.tensor(3.5, dtype=torch.float64)),
            ("ints", torch.arange(-4, 8, dtype=torch.int64).reshape(3, 4)),
            ("half", torch.linspace(-2, 2, 9, dtype=torch.float16)),
            ("flags", torch.tensor([True, False, True])),
            ("bytes", torch.tensor([0, 7, 255], dtype=torch.uint8)),
            ("empty", torch.zeros(0, 3)),
        ]),
        "step": 12,
        "history": [torch.ones(2, dtype=torch.int32), {"lr": 0.1, "name": "adam"}],
    }


def _as_numpy(obj):
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.numpy()
    if isinstance(obj, dict):
        return {k: _as_numpy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_as_numpy(v) for v in obj]
    return obj


def _assert_same(ours, ref):
    if isinstance(ref, dict):
        assert list(ours) == list(ref)
        for k in ref:
            _assert_same(ours[k], ref[k])
    elif isinstance(ref, list):
        assert len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _assert_same(a, b)
    elif isinstance(ref, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)
    else:
        assert ours == ref


@pytest.mark.parametrize("zip_format", [True, False])
def test_checkpoint_reader_equals_torch_load(zip_format, tmp_path):
    """Check the reader against torch.load on a checkpoint torch.save wrote, in the zip
    format and in the legacy one (which Resemblyzer's weights use)."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "ckpt.pt"
    torch.save(_torch_checkpoint_objects(torch), path,
               _use_new_zipfile_serialization=zip_format)
    assert zipfile.is_zipfile(path) == zip_format
    ours = _read_torch_checkpoint(path)
    assert isinstance(ours["model_state"], collections.OrderedDict)
    _assert_same(ours, _as_numpy(torch.load(path, weights_only=True)))


def test_checkpoint_reader_equals_torch_load_on_the_encoder_weights():
    torch = pytest.importorskip("torch")
    from sklaudio.features._embedding import _weights_path

    path = _weights_path()
    _assert_same(_read_torch_checkpoint(path),
                 _as_numpy(torch.load(path, map_location="cpu", weights_only=True)))


class _RunsCode:
    """Pickles as a call of os.getcwd: what a hostile checkpoint would do with os.system."""

    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize("zip_format", [True, False])
def test_checkpoint_reader_refuses_other_classes(zip_format, tmp_path):
    """Check that a checkpoint naming any function or class other than the tensor pieces
    raises (naming it) instead of running it, in both formats; no PyTorch needed."""
    payload = pickle.dumps({"model_state": {"x": _RunsCode()}}, protocol=2)
    path = tmp_path / "evil.pt"
    if zip_format:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", payload)
    else:
        buf = io.BytesIO()
        for head in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(head, buf, protocol=2)
        path.write_bytes(buf.getvalue() + payload + pickle.dumps([], protocol=2))
    with pytest.raises(ValueError, match=r"posix\.getcwd|os\.getcwd"):
        _read_torch_checkpoint(path)


def test_checkpoint_reader_refuses_a_truncated_file(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "ckpt.pt"
    torch.save({"w": torch.ones(1000)}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated"):
        _read_torch_checkpoint(path)


def test_streamed_clip_gives_the_whole_clip_row(speechlike, monkeypatch):
    """Check long clips read piece by piece (pieces of 333 mel frames, partials encoded
    16 at a time) give the rows of the whole clips, quiet (levelled) or loud, mixed with
    in-memory clips in input order."""
    from sklaudio.features import _embedding
    from sklaudio.utils._stream import StreamedClip

    monkeypatch.setattr(_embedding, "_STREAM_FRAMES", 333)
    monkeypatch.setattr(_embedding, "_BATCH", 16)
    clips = [0.01 * speechlike(f0=110, duration=14.0, seed=1),
             speechlike(f0=210, duration=0.3, seed=2),
             0.9 * speechlike(f0=160, duration=9.3, seed=3)]
    emb = SpeakerEmbedding(sr=16000).fit(clips)
    whole = emb.transform(clips)
    mixed = [StreamedClip.from_array(clips[0], 16000), clips[1],
             StreamedClip.from_array(clips[2], 16000)]
    np.testing.assert_allclose(emb.transform(mixed), whole, rtol=1e-6, atol=1e-7)


class _SmallBlocks:
    """A clip's samples in blocks of at most 2**16 (as a file reader would give them)."""

    def __init__(self, y):
        self.y = y

    def __call__(self, block_size):
        step = min(block_size, 1 << 16)
        for a in range(0, len(self.y), step):
            yield self.y[a : a + step]


def test_streamed_memory_is_set_by_the_batch_not_the_clip(speechlike, monkeypatch):
    """Check the peak memory of a streamed clip stays put as the clip doubles: it is set
    by a batch of partials through the encoder (16 here; 128 by default, about 60 MB),
    a piece of mel frames and a block of samples, not by the clip."""
    import tracemalloc

    from sklaudio.features import _embedding
    from sklaudio.utils._stream import StreamedClip

    monkeypatch.setattr(_embedding, "_BATCH", 16)
    y = speechlike(f0=140, duration=30.0, seed=4).astype(np.float32)
    emb = SpeakerEmbedding(sr=16000).fit([y[:16000]])
    peaks = []
    for clip in (y[:80000], y, np.tile(y, 2)):  # the first fills the caches
        stream = StreamedClip(_SmallBlocks(clip), sr=16000, n_samples=len(clip))
        tracemalloc.start()
        try:
            emb._extract_stream(stream)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # 30 more seconds are 1.9 MB of float32 samples
    assert peaks[2] - peaks[1] < 0.5e6, peaks
    assert peaks[2] < 16e6, peaks
