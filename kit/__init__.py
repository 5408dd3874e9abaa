"""Offline Learning Kit: content packs in, pages out, events synced.

The core (this package's top-level modules) knows no web, no CLI and no pack format:
config, database, keys, events and the records derived from them.
"""

__version__ = "0.1.0"
