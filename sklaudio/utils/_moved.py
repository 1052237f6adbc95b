"""Old import paths of public names that moved to another subpackage.

A subpackage whose public names moved keeps serving them from the old path with a
FutureWarning that names the new one::

    __getattr__ = moved_names(__name__, {"LogFeatures": "sklaudio.tabular"})
"""

import importlib
import warnings

__all__ = ["moved_names"]


def moved_names(package, moved):
    """Module ``__getattr__`` serving each name of ``moved`` from its new module.

    Parameters
    ----------
    package : str
        The old module's name (``__name__``).
    moved : dict of str to str
        Old name -> module that now defines it.

    Returns
    -------
    __getattr__ : callable
        For a moved name: warns (FutureWarning naming the new path) and returns the
        object from its new module; any other name raises AttributeError.
    """

    def __getattr__(name):
        if name in moved:
            new = moved[name]
            warnings.warn(
                f"{package}.{name} has moved to {new}.{name}; import it from there "
                f"(`from {new} import {name}`). The old path will be removed.",
                FutureWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(new), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    __getattr__.moved = dict(moved)  # for the test that every moved name is served
    return __getattr__
