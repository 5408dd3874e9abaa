"""The core: config, the database, keys, the event log and what derives from it (records,
progress), the roster and staff accounts. It knows no web, no CLI and no pack format: every
other package of the kit builds on it, and it imports none of them."""
