"""A reproducible text-as-data study of Chinese community-governance policy articles."""

__version__ = "0.1.0"
