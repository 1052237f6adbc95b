"""Loaded by pytest before anything else, in every worker process.

numba's on-disk cache (used by librosa, which our tests call as a reference) is not
safe when several processes fill it at once: pytest-xdist workers racing on an empty
cache have crashed and left a cache that crashes later runs. Each test process gets
its own cache folder, unless the caller chose one.
"""

import os
import tempfile

os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="sklaudio-numba-"))
