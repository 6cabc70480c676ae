"""Experiments that train or time Keras models (chapters 4 and 5): callable from the book,
the tests and the benchmark command, so every number printed in the book is computed by
code that the tests also run."""
