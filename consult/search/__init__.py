"""Search over asks, comments and amendments (see services.py; the index: index.py)."""
