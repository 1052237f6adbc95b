"""The documentation builds from the sources with warnings as errors, runs its gallery,
and lists every public name in the API reference."""

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import sklaudio
from tests.conftest import require_data

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require_data("librispeech-251")  # the gallery runs on real speech
    out = tmp_path_factory.mktemp("html")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out)],
        capture_output=True, text=True, cwd=DOCS,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-6000:]
    return out


def test_docs_build_without_warnings_and_run_the_gallery(built):
    """Check the entry page, the user guide and the executed gallery example exist."""
    assert (built / "index.html").is_file()
    assert (built / "guide" / "experiment.html").is_file()
    example = (built / "auto_examples" / "plot_eda_to_model.html").read_text()
    assert example.count("<img") >= 10  # the figures the example draws


def test_every_public_name_is_in_the_api_reference(built):
    """Check each name of each subpackage's __all__ has its page in the API reference."""
    spec = importlib.util.spec_from_file_location("sklaudio_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    documented = {sub for sub, _ in conf.SECTIONS}
    assert set(sklaudio._SUBPACKAGES) <= documented, set(sklaudio._SUBPACKAGES) - documented
    missing = []
    for sub in sklaudio._SUBPACKAGES:
        mod = importlib.import_module(f"sklaudio.{sub}")
        for name in getattr(mod, "__all__", []):
            if not (built / "generated" / f"sklaudio.{sub}.{name}.html").is_file():
                missing.append(f"sklaudio.{sub}.{name}")
    assert not missing, missing
