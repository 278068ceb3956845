"""Versioned, secret-scrubbed configuration backups of network gear over SSH."""
