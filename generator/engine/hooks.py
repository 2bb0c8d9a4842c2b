"""MkDocs hooks: plugin events (MkDocs' documented ``hooks:`` setting, written by
build.write_config), public interfaces only.

``on_env``: the theme's Jinja environment compiles Material's templates and our
overrides (about 40) on every build, about 0.7 s of a full build's fixed cost. The
environment it returns is an overlay (``Environment.overlay``, Jinja's documented way
to derive an environment) with a bytecode cache (``jinja2.FileSystemBytecodeCache``):
each template's compiled code kept under the template's name and the SHA-1 of its
source, like Python's ``__pycache__``. A changed template, Jinja or Python has another
key, so the output is the same with or without the cache.

The cache lives in the build folder (``build/.cache/engine-templates``, beside
``build/mkdocs.yml``), not in Jinja's default per-user temporary folder: removing the
build folder then removes every cache (a full build is a full build), nothing is written
outside the checkout, and a shared machine's temporary folder, which Jinja refuses when
another user owns it, cannot fail a build.
"""

from __future__ import annotations

import os

import jinja2

#: The cache files of this environment only (another environment may compile the same
#: file with other settings).
_PATTERN = "__zq_engine_theme_%s.cache"


#: Under the build folder (the folder of build/mkdocs.yml).
CACHE_DIR = os.path.join(".cache", "engine-templates")


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's FileSystemBytecodeCache, for which a file it cannot read back is no file: Jinja
    checks a file's magic header, checksum and code, but a damaged checksum (a pickle) raises
    from the template's load and would fail the build. The cache is only ever an
    optimisation: such a template is compiled again (and its file written anew)."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - any damaged file: compile the template again
            bucket.reset()


def on_env(env: jinja2.Environment, config, files) -> jinja2.Environment:
    folder = os.path.join(os.path.dirname(os.path.abspath(config.config_file_path)), CACHE_DIR)
    os.makedirs(folder, exist_ok=True)
    return env.overlay(bytecode_cache=_BytecodeCache(folder, pattern=_PATTERN))
