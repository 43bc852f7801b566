"""Fixtures of the security tests: the six shop services running together."""

from tests.shop.running import shop

__all__ = ["shop"]
