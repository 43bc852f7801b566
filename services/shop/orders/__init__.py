"""The orders service: takes orders and orchestrates the order saga (see README.md)."""
