"""augment."""

__all__ = []
