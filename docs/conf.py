"""Sphinx configuration of sklaudio's documentation.

Build: ``.venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The API reference is generated from each subpackage's ``__all__``, so every public
name appears; the gallery scripts in ``docs/examples`` run during the build.
"""

import importlib
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import sklaudio  # noqa: E402

project = "sklaudio"
author = "the sklaudio developers"
copyright = "2026, the sklaudio developers"
release = version = sklaudio.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "DEVELOPING.md", "examples/README.txt"]
html_theme = "alabaster"
html_title = "sklaudio"
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()  # tests/test_docstrings.py validates docstrings
suppress_warnings = ["autosummary.import_cycle"]

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
}

# the API page: one section per subpackage, every name of its __all__
SECTIONS = [
    ("io", "Loading audio"),
    ("datasets", "Corpora, label schemes and synthetic voices"),
    ("preprocessing", "Audio in, audio out"),
    ("features", "Audio in, one row per clip"),
    ("tabular", "Rows in, rows out"),
    ("augment", "Augmentation"),
    ("segments", "Segments and smoothing"),
    ("model_selection", "Model selection"),
    ("experiment", "The age and gender experiment"),
    ("speakers", "Speaker verification and identification"),
    ("deploy", "Model bundles, prediction, serving"),
    ("monitor", "Drift monitoring"),
    ("display", "Figures"),
    ("pipeline", "Pipeline"),
    ("utils", "The audio input contract"),
]


def _write_api_page():
    lines = ["API reference", "=============", "",
             "Every public name of sklaudio, by subpackage.", ""]
    for sub, title in SECTIONS:
        mod = importlib.import_module(f"sklaudio.{sub}")
        names = sorted(getattr(mod, "__all__", []))
        header = f"``sklaudio.{sub}``: {title}"
        lines += [header, "-" * len(header), "",
                  f".. currentmodule:: sklaudio.{sub}", "", ".. autosummary::",
                  "   :toctree: generated", ""]
        lines += [f"   {name}" for name in names]
        lines.append("")
    text = "\n".join(lines)
    path = HERE / "api.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_page()
os.environ.setdefault("SKLAUDIO_DOCS", "1")
