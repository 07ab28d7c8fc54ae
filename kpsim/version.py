"""kpsim's version, in a module of its own so that everything can record it without importing the API."""

__version__ = "0.2.0"
