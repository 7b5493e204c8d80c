"""The engine's version: recorded in every decision and shown by ``credit --version``."""

__version__ = "0.1.0"
