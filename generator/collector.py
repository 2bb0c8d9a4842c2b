"""The cyclic garbage collector, paused while a stage makes objects that are in no cycle.

Load, validate and derive make hundreds of thousands of rows, records and facts, nearly all
alive until the site is written and none in a reference cycle; the build's caches load tens
of thousands of lists the same way. The collector would scan them again and again (up to full
collections over everything the build holds) and free nothing, so these stages pause it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection meanwhile; the collector's state afterwards is what it was before
    (a caller that paused it already keeps it paused)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
