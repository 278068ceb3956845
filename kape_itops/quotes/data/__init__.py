"""Data shipped with the quotes package: the CPU table and the spec JSON Schema."""
