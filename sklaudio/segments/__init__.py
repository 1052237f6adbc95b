"""segments."""

__all__ = []
