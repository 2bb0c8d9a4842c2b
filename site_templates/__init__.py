"""The site's presentation: page templates (pages/), theme overrides (overrides/) and assets.

Data, not code: this file only makes the folder a package, so that an installed generator
carries it as ``generator.site_templates`` (pyproject.toml maps it) and finds it with
importlib.resources (generator/sitefiles.py). In a checkout the generator reads this folder.
"""
