"""A reference Lucia server (the lucia-sveltekit 0.10 wire protocol) for the demo and tests.

A development tool, never shipped in the wheel: standard library only
(``http.server``, ``sqlite3``, ``hashlib.scrypt``) so it runs wherever Python does.
"""
