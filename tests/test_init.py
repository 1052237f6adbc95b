"""Tests of the top-level namespace."""

import subprocess
import sys

import sklaudio


def test_every_public_name_resolves_to_its_subpackage_object():
    """Check that each lazily exported name is the object its subpackage defines."""
    import importlib

    for name, module in sklaudio._LAZY.items():
        assert getattr(sklaudio, name) is getattr(importlib.import_module(module), name)
        assert getattr(sklaudio, name).__module__.startswith("sklaudio.")


def test_import_is_lazy_and_needs_no_optional_extras():
    """Check that importing sklaudio loads neither librosa nor matplotlib."""
    code = ("import sys, sklaudio; "
            "print(int('librosa' in sys.modules), int('matplotlib' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["0", "0"]
