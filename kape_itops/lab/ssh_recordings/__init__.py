"""Recorded vendor CLI outputs answered by the SSH simulator (data only)."""
