"""The figures of every stage, drawn from its tables with one CJK font."""
