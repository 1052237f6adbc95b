"""Code quality: ruff's lint and import order, and numpydoc validation of public docstrings."""

import importlib
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sklaudio

numpydoc_validate = pytest.importorskip("numpydoc.validate")

ROOT = Path(__file__).resolve().parents[1]

# numpydoc checks every public docstring must pass (numpydoc.validate codes):
# GL08 has a docstring; SS01/SS03 one-line summary ending in a period; PR01/PR02 every
# parameter documented and nothing documented that does not exist; PR07/RT03 each
# parameter and return described; EX01 an Examples section (on public functions and
# classes, not on methods).
CHECKS = {"GL08", "SS01", "SS03", "PR01", "PR02", "PR07", "RT03"}
EXAMPLE_CHECK = "EX01"


def _public_objects():
    """(qualified name, object) for every public class, function and public method."""
    seen = {}
    for sub in sklaudio._SUBPACKAGES:
        mod = importlib.import_module(f"sklaudio.{sub}")
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("sklaudio"):
                continue
            qual = f"{obj.__module__}.{obj.__qualname__}"
            seen.setdefault(qual, obj)
            if inspect.isclass(obj):
                for meth_name, meth in vars(obj).items():
                    if meth_name.startswith("_") or not inspect.isfunction(meth):
                        continue
                    seen.setdefault(f"{qual}.{meth_name}", meth)
    return sorted(seen.items())


PUBLIC = _public_objects()


@pytest.mark.parametrize("qualname, obj", PUBLIC, ids=[q for q, _ in PUBLIC])
def test_public_docstring_is_valid_numpydoc(qualname, obj):
    """Check the public docstring against numpydoc's rules listed in CHECKS."""
    result = numpydoc_validate.validate(qualname)
    wanted = set(CHECKS)
    if "." not in obj.__qualname__:  # a class or a function, not a method
        wanted.add(EXAMPLE_CHECK)
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code in wanted]
    assert not errors, f"{qualname}:\n" + "\n".join(errors)


def test_ruff_finds_nothing():
    """Check that ruff (pyflakes, pycodestyle, import order) passes on the whole tree."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    proc = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
