"""Telekit's simulator sidecar."""

PROTOCOL = 1
__version__ = "0.1.0"
