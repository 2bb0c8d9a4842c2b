"""The generator as installed from a wheel works outside a checkout (issue 15: layout).

The presentation (site_templates/) ships inside the package as generator.site_templates;
the site's own files (data/, content/, mkdocs.yml) come from the site folder, the
current directory (generator/sitefiles.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from generator import sitefiles

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "generator").rglob("*")
               if p.is_dir() and p.name != "__pycache__" and any(f.is_file() for f in p.iterdir())}
    assert folders | {"generator", "generator.site_templates"} <= listed


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_builds_a_site(tmp_path: Path):
    wheels = tmp_path / "wheels"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = wheels.glob("*.whl")
    lib = tmp_path / "lib"  # the installed package: the wheel's files, nothing of the checkout
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(lib)
    shipped = {f"generator/site_templates/{p.relative_to(ROOT / 'site_templates').as_posix()}"
               for p in (ROOT / "site_templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped <= names
    assert {"generator/schemas/datapackage.yaml", "generator/templates/letter.html.j2"} <= names

    site_folder = tmp_path / "mysite"  # what a publisher keeps: records, hand-written pages, engine settings
    shutil.copytree(ROOT / "data", site_folder / "data")
    shutil.copytree(ROOT / "content", site_folder / "content")
    shutil.copy(ROOT / "mkdocs.yml", site_folder / "mkdocs.yml")
    deps = sysconfig.get_paths()["purelib"]  # this environment's dependencies (its .pth files are not read)
    script = ("import sys, generator, generator.sitefiles as s; "
              "print(generator.__file__); print(s.templates_dir()); "
              "from generator.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=os.pathsep.join([str(lib), deps]), NO_MKDOCS_2_WARNING="1")
    run = subprocess.run([sys.executable, "-S", "-c", script, "build", "--data", "data", "--out", "site",
                          "--as-of", "2026-11-20", "--no-history"],
                         cwd=site_folder, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    package_file, templates = run.stdout.splitlines()[:2]
    assert Path(package_file).is_relative_to(lib) and Path(templates).is_relative_to(lib)
    site = site_folder / "site"
    assert (site / "index.html").is_file() and (site / "about" / "index.html").is_file()
    assert any((site / "commitments").glob("*/index.html"))
    assert (site / "assets" / "css" / "zq.css").read_bytes() == sitefiles.asset_bytes(ROOT / "site_templates/assets/css/zq.css")
    assert (site_folder / "build" / "mkdocs.yml").is_file()  # scratch files stay in the site folder
