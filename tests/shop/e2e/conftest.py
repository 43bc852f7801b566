"""Fixtures of the end-to-end tests: the six shop services running together."""

from tests.shop.running import shop

__all__ = ["shop"]
