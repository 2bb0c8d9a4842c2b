"""Staff tools around the data folder: ``generator new`` (scaffold), ``generator import`` and
``generator export-template`` (importer). The preview (``generator serve``) is generator/serve.py."""
