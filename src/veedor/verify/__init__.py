"""Verify: named checks on what was read, and the status they imply."""
