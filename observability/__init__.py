"""Metrics and logging shared by every package (a leaf: imports nothing of ours)."""
