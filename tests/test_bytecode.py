"""Compiled templates kept between builds (generator/bytecode.py): keyed by the template and the
settings of the environment compiling it, so environments with other settings over one folder
never run each other's code, and the same settings find their code in every process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.ext
import pytest

from generator.bytecode import TemplateCodeCache, settings

SOURCE = '{{ "<b>" }}|{{ "x"|mark }}|{% if on %}\n  on{% endif %}\n{{ v }}'


def _mark(value):
    return f"[{value}]"


def _other_mark(value):
    return f"({value})"


def _finalize_upper(value):
    return str(value).upper()


class _Shout(jinja2.ext.Extension):
    """Changes the source before it is compiled (Extension.preprocess, Jinja's documented hook)."""

    def preprocess(self, source, name, filename=None):
        return source.replace("on", "ON")


BASE = dict(autoescape=False, trim_blocks=False)
#: One setting changed at a time; each changes what the template renders.
CHANGES = {
    "autoescape": {"autoescape": True},
    "trim_blocks": {"trim_blocks": True},
    "lstrip_blocks": {"lstrip_blocks": True, "trim_blocks": True},
    "finalize": {"finalize": _finalize_upper},
    "filter": {"filters": {"mark": _other_mark}},
    "delimiters": {"variable_start_string": "{{{", "variable_end_string": "}}}"},
    "extension": {"extensions": ["tests.test_bytecode._Shout"]},
}


def make(folder: Path, cache: Path, filters=None, **options) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), bytecode_cache=TemplateCodeCache(str(cache)),
                             **{**BASE, **options})
    env.filters.update(filters or {"mark": _mark})
    return env


def render(env: jinja2.Environment) -> str:
    return env.get_template("t.html").render(on=True, v="<i>")


def expected(**options) -> str:
    """What an environment with these settings renders without any cache."""
    filters = options.pop("filters", None)
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": SOURCE}), **{**BASE, **options})
    env.filters.update(filters or {"mark": _mark})
    return env.get_template("t.html").render(on=True, v="<i>")


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The names of the templates compiled (not loaded from a cache) from now on."""
    names: list[str] = []
    compile_template = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, source, name=None, *a, **k: names.append(name) or compile_template(self, source, name, *a, **k))
    return names


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_environments_with_other_settings_over_one_folder_do_not_share_bytecode(tmp_path, compiled, change):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "t.html").write_text(SOURCE, encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    options = CHANGES[change]
    base, changed = expected(), expected(**options)
    assert base != changed  # the setting shows in the output
    compiled.clear()

    assert render(make(tmp_path / "t", cache)) == base
    assert render(make(tmp_path / "t", cache, **options)) == changed
    assert compiled == ["t.html", "t.html"]  # the second environment compiled its own code
    assert len(list(cache.iterdir())) == 2
    compiled.clear()  # new environments of either settings: each finds its own code
    assert render(make(tmp_path / "t", cache, **options)) == changed
    assert render(make(tmp_path / "t", cache)) == base
    assert compiled == []


def test_the_settings_are_the_same_in_every_process_and_follow_the_template_name():
    """A key that changed from process to process (an object's address in it) would never find a file."""
    from generator.render import DEFAULT_TEMPLATES_DIR, make_environment

    code = ("from generator.render import DEFAULT_TEMPLATES_DIR, make_environment; from generator.bytecode import settings; "
            "print(settings(make_environment(DEFAULT_TEMPLATES_DIR), 'commitment.html.j2'))")
    env = make_environment(DEFAULT_TEMPLATES_DIR)
    here = settings(env, "commitment.html.j2")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there and " at 0x" not in here
    select = jinja2.Environment(autoescape=jinja2.select_autoescape(["html"], default=False))
    assert settings(select, "a.html") != settings(select, "a.txt")  # autoescape as Jinja decides it per name


def test_the_settings_follow_an_environment_changed_after_a_template_was_loaded(tmp_path):
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": SOURCE}))
    env.filters["mark"] = _mark
    before = settings(env, "t.html")
    env.filters["mark"] = _other_mark
    assert settings(env, "t.html") != before
    env.filters["mark"] = _mark
    assert settings(env, "t.html") == before
    env.trim_blocks = True
    assert settings(env, "t.html") != before
    env.trim_blocks = False
    env.add_extension(_Shout)
    assert settings(env, "t.html") != before


def test_an_environment_with_extensions_is_freed_once_its_settings_were_made():
    import gc
    import weakref

    env = jinja2.Environment(extensions=[_Shout])
    settings(env, "t.html")
    gone = weakref.ref(env)
    del env
    gc.collect()
    assert gone() is None
