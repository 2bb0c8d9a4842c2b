"""MkDocs hooks: plugin events (MkDocs' documented ``hooks:`` setting, written by
build.write_config), public interfaces only.

``on_env``: the theme's Jinja environment compiles Material's templates and our
overrides (about 40) on every build, about 0.7 s of a full build's fixed cost. The
environment it returns is an overlay (``Environment.overlay``, Jinja's documented way
to derive an environment) with a bytecode cache (``jinja2.FileSystemBytecodeCache``):
each template's compiled code kept under the template's name and the SHA-1 of its
source, in Jinja's own default place (a folder of the user's temporary directory that
only the user may write), like Python's ``__pycache__``. A changed template, Jinja or
Python has another key, so the output is the same with or without the cache.
"""

from __future__ import annotations

import jinja2

#: The cache files of this environment only (another environment may compile the same
#: file with other settings).
_PATTERN = "__zq_engine_theme_%s.cache"


def on_env(env: jinja2.Environment, config, files) -> jinja2.Environment:
    return env.overlay(bytecode_cache=jinja2.FileSystemBytecodeCache(pattern=_PATTERN))
