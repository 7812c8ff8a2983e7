"""The version of xlmonitor: the one source for the package metadata, ``--version`` and the
cache (a new version reads every file again)."""

__version__ = "0.1.0"
