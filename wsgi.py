"""WSGI entry point: the only module-level app."""

from consult import create_app

app = create_app()
