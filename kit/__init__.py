"""Offline Learning Kit: content packs in, pages out, events synced.

Layers, each importing only those below it: `core` (config, database, keys, events and what
derives from them), `content` (courses, quizzes, packs, search), `learning` (the verbs the
faces call), `sync` (bundles, hub protocol), then the faces: `server` (web) and `cli` (`kit`).
"""

__version__ = "0.1.0"
