"""Adapters at the edge of the hexagon: each implements a port from ``ports.py``."""
