"""The JSON archive of a whole consultation (export.py) and its restore into an empty
database (load.py)."""
