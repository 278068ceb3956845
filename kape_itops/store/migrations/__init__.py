"""Alembic migrations of the kape-itops schema."""

SCHEMA_HEAD = "0009"
"""The newest revision in versions/ (a test keeps it equal to Alembic's head)."""
