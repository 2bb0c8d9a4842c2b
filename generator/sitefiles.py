"""Where the generator finds its own files and the site's.

* The presentation ships with the generator: page templates, theme overrides and assets
  (``site_templates/``). In a checkout that is the top-level ``site_templates/`` folder
  beside the package; in an installed generator the same files are inside the package as
  ``generator.site_templates`` (pyproject.toml maps the folder there), found with
  importlib.resources.
* The site's own files are in the *site folder*: ``data/`` (the records), ``content/``
  (the hand-written pages: about, methodology, policy …) and ``mkdocs.yml`` (the engine's
  settings and the navigation). The site folder is the current directory when it has a
  ``mkdocs.yml``, else the checkout the generator runs from. So an installed generator
  builds a site from a folder holding data/, content/ and mkdocs.yml, and in a checkout
  everything works as before from any directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from generator.problems import GeneratorError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
SITE_CONFIG = "mkdocs.yml"


class SiteFilesMissing(GeneratorError):
    exit_code = 2


def templates_dir() -> Path:
    """The presentation: pages/, overrides/, assets/."""
    checkout = _CHECKOUT / "site_templates"
    if (checkout / "pages").is_dir():
        return checkout  # a checkout: the files being edited
    shipped = resources.files("generator.site_templates")
    return Path(str(shipped))  # installed from a wheel: a folder inside the package


#: The site's own stylesheet and scripts, loaded by every page: served minified. Vendored files
#: (the ResizeObserver polyfill keeps its licence header) and the stubs are served as they are.
MINIFIED_ASSETS = ("zq.css", "zq.js", "zq-textsize.js")


def asset_bytes(path: Path) -> bytes:
    """An asset as the site serves it: MINIFIED_ASSETS minified, the rest as they are.

    The sources stay commented and readable; readers get them without comments and
    indentation (zq.css 24.8 → 19.0 KB, zq.js 14.4 → 10.1 KB), on every page. rcssmin and
    rjsmin only remove what the language ignores (no renaming, no rewriting), so the
    minified file behaves exactly as the source does.
    """
    path = Path(path)
    data = path.read_bytes()
    if path.name not in MINIFIED_ASSETS:
        return data
    if path.suffix == ".css":
        import rcssmin

        return rcssmin.cssmin(data.decode("utf-8")).encode("utf-8")
    import rjsmin

    return rjsmin.jsmin(data.decode("utf-8")).encode("utf-8")


def site_root() -> Path:
    """The site folder: the current directory if it has mkdocs.yml, else the checkout."""
    for folder in (Path.cwd(), _CHECKOUT):
        if (folder / SITE_CONFIG).is_file():
            return folder
    raise SiteFilesMissing(f"找不到网站配置文件 {SITE_CONFIG}：请在网站文件夹（包含 data/、content/ 和 {SITE_CONFIG}）中运行。")


def content_dir() -> Path:
    return site_root() / "content"


def base_config() -> Path:
    return site_root() / SITE_CONFIG


def build_dir() -> Path:
    """The scratch folder of a build (rendered sources, caches): build/ in the site folder."""
    return site_root() / "build"
