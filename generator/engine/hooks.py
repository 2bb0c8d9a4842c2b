"""MkDocs hooks: plugin events (MkDocs' documented ``hooks:`` setting, written by
build.write_config), public interfaces only.

``on_env``: the theme's Jinja environment compiles Material's templates and our
overrides (about 40) on every build, about 0.7 s of a full build's fixed cost. The
environment it returns is an overlay (``Environment.overlay``, Jinja's documented way
to derive an environment) with a bytecode cache (generator/bytecode.py, Jinja's
``FileSystemBytecodeCache``): each template's compiled code kept under the template's
name and the environment's settings and checked against the SHA-1 of its source, like
Python's ``__pycache__``. A changed template, setting, Jinja or Python has another key
or checksum, so the output is the same with or without the cache.

The cache lives in the build folder (``build/.cache/engine-templates``, beside
``build/mkdocs.yml``), not in Jinja's default per-user temporary folder: removing the
build folder then removes every cache (a full build is a full build), nothing is written
outside the checkout, and a shared machine's temporary folder, which Jinja refuses when
another user owns it, cannot fail a build.
"""

from __future__ import annotations

import os

import jinja2

from generator.bytecode import TemplateCodeCache

#: Under the build folder (the folder of build/mkdocs.yml).
CACHE_DIR = os.path.join(".cache", "engine-templates")


def on_env(env: jinja2.Environment, config, files) -> jinja2.Environment:
    folder = os.path.join(os.path.dirname(os.path.abspath(config.config_file_path)), CACHE_DIR)
    os.makedirs(folder, exist_ok=True)
    return env.overlay(bytecode_cache=TemplateCodeCache(folder))
