"""Browser tests: the built book and the notebooks in JupyterLab, in Debian's Chromium
driven by Playwright. A package, so its conftest does not shadow ``tests/conftest.py``."""
