"""Shared by every stage: the project's paths, input errors, byte-stable writers and worker pools."""
