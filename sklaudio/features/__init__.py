"""features."""

__all__ = []
