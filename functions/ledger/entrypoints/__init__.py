"""Lambda entry points: one small module per function."""
