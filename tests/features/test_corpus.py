"""extract_corpus: equal to the pipeline, resumes after an interruption, keys by content
and parameters, and runs on a real dask LocalCluster."""

import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose
from sklearn.pipeline import make_pipeline

from sklaudio.exceptions import AudioLoadError
from sklaudio.features import MelCodebook, MelFeatures, extract_corpus
from sklaudio.io import AudioLoader
from tests.conftest import harmonic

SR = 8000


def _pipe(n_mels=16):
    return make_pipeline(AudioLoader(sr=SR), MelFeatures(n_mels=n_mels, n_mfcc=5))


@pytest.fixture
def files(tmp_path):
    paths = []
    for i in range(7):
        p = tmp_path / f"clip{i}.wav"
        sf.write(p, harmonic(120.0 + 30 * i, sr=SR, duration=0.3 + 0.05 * i), SR)
        paths.append(str(p))
    return paths


def test_rows_equal_the_pipeline_in_order(files):
    """Check each row equals the pipeline's own output for that file, in the given order."""
    order = files[::-1]
    out = extract_corpus(_pipe(), order, batch_size=3)
    direct = _pipe().set_output(transform="pandas").fit_transform(order)
    assert list(out.index) == order and list(out.columns) == list(direct.columns)
    assert_allclose(out.to_numpy(), direct.to_numpy(), rtol=1e-6, atol=1e-9)


def test_interrupted_extraction_resumes_with_only_the_missing_files(files, tmp_path):
    """Check a crash keeps finished rows; the rerun computes only what is missing."""
    cache = tmp_path / "cache"
    bad = files[4]
    good_bytes = open(bad, "rb").read()
    open(bad, "wb").write(b"not audio")
    with pytest.raises(AudioLoadError, match="clip4.wav"):
        extract_corpus(_pipe(), files, cache_dir=cache, batch_size=2)
    open(bad, "wb").write(good_bytes)
    out = extract_corpus(_pipe(), files, cache_dir=cache, batch_size=2)
    assert out.attrs == {"n_computed": 3, "n_cached": 4}  # batches [0,1], [2,3] were stored
    assert_allclose(out.to_numpy(), extract_corpus(_pipe(), files).to_numpy(), rtol=1e-6)
    again = extract_corpus(_pipe(), files + [files[0]], cache_dir=cache)
    assert again.attrs == {"n_computed": 0, "n_cached": 8}


def test_a_changed_file_or_parameter_is_computed_again(files, tmp_path):
    """Check the cache key: new content or new parameters never reuse a stored row."""
    cache = tmp_path / "cache"
    first = extract_corpus(_pipe(), files, cache_dir=cache)
    sf.write(files[2], harmonic(400.0, sr=SR, duration=0.4), SR)
    changed = extract_corpus(_pipe(), files, cache_dir=cache)
    assert changed.attrs["n_computed"] == 1
    assert not np.allclose(changed.iloc[2], first.iloc[2])
    other = extract_corpus(_pipe(n_mels=20), files, cache_dir=cache)
    assert other.attrs["n_computed"] == len(files)


def test_learning_steps_and_bad_input_are_refused(files):
    """Check the errors: a learning step, no paths, a missing file, a bad batch size."""
    with pytest.raises(ValueError, match="learns nothing"):
        extract_corpus(make_pipeline(AudioLoader(sr=SR), MelCodebook()), files)
    with pytest.raises(ValueError, match="paths is empty"):
        extract_corpus(_pipe(), [])
    with pytest.raises(AudioLoadError, match="nowhere.wav"):
        extract_corpus(_pipe(), files + ["nowhere.wav"], cache_dir=files[0] + ".cache")
    with pytest.raises(ValueError, match="batch_size"):
        extract_corpus(_pipe(), files, batch_size=0)


def test_dask_local_cluster_gives_the_serial_features(files):
    """Check joblib's dask backend on a real LocalCluster with worker processes."""
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    serial = extract_corpus(_pipe(), files, batch_size=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster), parallel_config(backend="dask"):
            remote = extract_corpus(_pipe(), files, batch_size=2, n_jobs=2)
    assert_allclose(remote.to_numpy(), serial.to_numpy(), rtol=0, atol=0)
    assert list(remote.index) == files
