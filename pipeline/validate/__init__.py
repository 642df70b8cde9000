"""The validation kit: draw a coding sheet, score independent coders (`python -m pipeline validate`)."""
