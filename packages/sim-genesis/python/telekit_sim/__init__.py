"""Telekit's simulator sidecar."""

PROTOCOL = 2
__version__ = "0.1.0"
