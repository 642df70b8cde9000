"""A reproducible text-as-data study of Chinese community-governance policy articles."""

__all__ = ["__version__"]

__version__ = "0.1.0"
