"""The seam to the site engine (MkDocs + Material for MkDocs today).

This package is the only place that imports ``mkdocs``, ``markdown`` or ``material``,
and it uses their public, documented interfaces only: ``mkdocs.config.load_config``,
``mkdocs.commands.build.build``, configuration keys, front matter (``search.exclude``),
the theme's template blocks in ``site_templates/overrides``, and plugin events through
MkDocs' ``hooks:`` setting (``hooks.py``). Replacing the engine means rewriting this
package and the theme overrides, nothing else.

What it receives is plain data, written by the render stage into the build folder:

* ``docs/`` — pages to build from Markdown (hand-written pages, lists, dashboards), the
  assets and the downloads;
* ``pages.pack`` — pages the generator rendered straight to HTML (record and department
  pages), one entry each: URL, shell kind, title, table of contents, search text, and the
  body (``generator/pack.py``; read one entry at a time, never all pages at once);
* ``blocks.pack`` — the raw HTML blocks of the Markdown list pages, put back after the build,
  and the figures of searched Markdown pages (the home page; ``data-figures.pack``: the 开放数据
  page's), put back into the pages and the search index (``generator/figures.py``);
* ``site-files.pack`` — files placed into the site as they are (the letters);
* the site settings (name, URL, publisher …).

It builds the Markdown pages plus one *shell* page per kind and folder (an ordinary
engine page whose title, table of contents and content are placeholders), stamps every
HTML page into its shell (see ``stamp.py``), adds their search and sitemap entries,
and returns the built folder.
"""

from generator.engine.build import DATA_FIGURES_PACK, SITE_FILES_PACK, EngineFailed, build, build_finished, write_config
from generator.engine.markup import markdown_field_html

__all__ = ["DATA_FIGURES_PACK", "SITE_FILES_PACK", "EngineFailed", "build", "build_finished", "markdown_field_html", "write_config"]
