"""Static-site transparency publisher for a district's honest-government programme.

The pipeline runs in one direction, one module per stage:
load → validate → derive → render → publish.
"""

__version__ = "0.1.0"
