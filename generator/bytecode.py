"""Jinja's compiled templates kept between builds, keyed by what compiles them.

Jinja's bytecode cache (its documented ``FileSystemBytecodeCache``, like Python's
``__pycache__``) files a template's code under its name and checks it against the SHA-1
of its source. But the code also follows the environment that compiled it: its syntax
settings (delimiters, trim_blocks, lstrip_blocks, line prefixes, newlines), extensions,
autoescape (for that template's name), finalize (applied to the template's constant text
while compiling), the filters and tests (their presence, how they are called, and their
results on constant arguments, which the optimizer computes), async, the sandbox and the
policies. TemplateCodeCache keys each file by those settings as well, so two environments
with different settings over one folder each read their own code, and a build with other
settings never runs code compiled for others.

Functions and classes are named by module and qualified name (the same in every process);
a change of what a named function does is a change of the code that defines it, which the
caches' folders follow (render._template_cache names its folder by a digest of render.py).
"""

from __future__ import annotations

import hashlib
import weakref

import jinja2
from jinja2.bccache import Bucket

#: The environment's attributes that the lexer, parser and compiler read (plain values).
_SYNTAX = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
           "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
           "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized",
           "is_async", "sandboxed")


class TemplateCodeCache(jinja2.FileSystemBytecodeCache):
    """A FileSystemBytecodeCache whose files are keyed by the template's name and the settings of
    the environment compiling it (settings), and for which a file it cannot read back is no file:
    Jinja checks a file's magic header, checksum and code, but a damaged checksum (a pickle)
    raises from the template's load and would fail the build. The cache is only ever an
    optimisation: such a template is compiled again (and its file written anew)."""

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        key = hashlib.sha1(f"{self.get_cache_key(name, filename)}|{settings(environment, name)}".encode(
            "utf-8", "surrogatepass")).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - any damaged file: compile the template again
            bucket.reset()


def settings(env: jinja2.Environment, name: str) -> str:
    """What, besides its source, the code `env` compiles for the template `name` depends on."""
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return f"{_stable(autoescape)!r}|{_environment(env)}"


#: environment → (the objects its settings were made from, the settings): naming every filter
#: and test costs about 0.15 ms, and a build loads some 50 templates from a few environments.
_SEEN: "weakref.WeakKeyDictionary[jinja2.Environment, tuple[tuple, str]]" = weakref.WeakKeyDictionary()


def _environment(env: jinja2.Environment) -> str:
    """settings without autoescape (the same for every template of env)."""
    state = (type(env), env.code_generator_class, env.undefined, env.concat, env.finalize,
             [getattr(env, attr) for attr in _SYNTAX],
             # (an extension holds its environment: the state must not, or env would never be freed)
             [(key, type(ext), ext.priority) for key, ext in env.extensions.items()],
             sorted(getattr(env, "intercepted_binops", ())), sorted(getattr(env, "intercepted_unops", ())),  # a sandbox's
             list(env.filters.items()), list(env.tests.items()), list(env.policies.items()))
    seen = _SEEN.get(env)
    if seen is not None and seen[0] == state:  # the same objects (functions compare by identity)
        return seen[1]
    (kind, generator, undefined, concat, finalize, syntax, extensions, binops, unops, filters, tests, policies) = state
    text = repr((
        _named(kind), _named(generator), _named(undefined), _named(concat), _named(finalize), syntax,
        sorted((key, _named(kind), priority) for key, kind, priority in extensions), binops, unops,
        sorted((key, _named(f)) for key, f in filters), sorted((key, _named(f)) for key, f in tests),
        sorted((key, _stable(value)) for key, value in policies),
    ))
    _SEEN[env] = (state, text)
    return text


def _named(obj: object) -> str | None:
    """A function or class by module and qualified name (another object: its class's)."""
    if obj is None:
        return None
    if not hasattr(obj, "__qualname__"):
        obj = type(obj)
    return f"{getattr(obj, '__module__', None)}:{obj.__qualname__}"


def _stable(value: object) -> object:
    """value for a repr that is the same in every process: plain values as they are, containers
    item by item (dicts and sets sorted), anything else by name (_named)."""
    if value is None or isinstance(value, (str, bytes, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    if isinstance(value, dict):
        return sorted((repr(k), _stable(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_stable(v)) for v in value)
    return _named(value)
