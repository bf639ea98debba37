"""Reproductions of the seed papers (docs/validation.md)."""
