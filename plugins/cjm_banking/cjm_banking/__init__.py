"""cjm-banking: the retail-banking industry template for cjm (found through entry points)."""

__version__ = "0.1.0"
