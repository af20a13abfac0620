"""Exports of the agreed text: one document model (document.py), one pure renderer per format."""
