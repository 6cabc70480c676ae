"""Interactive widgets (ipywidgets). Each widget redraws a figure from
:mod:`lessonlib.viz`, which the static book shows for readers without a kernel."""
