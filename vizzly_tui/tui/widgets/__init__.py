"""Reusable widgets of the review app; each carries its own DEFAULT_CSS."""
