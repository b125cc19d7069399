"""cjm-retail: the retail (e-commerce and stores) industry template for cjm."""

__version__ = "0.1.0"
