"""Measurements the book reports and the benchmark command runs (they import Keras)."""
