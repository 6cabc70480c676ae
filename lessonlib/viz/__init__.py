"""Figures of the course. Each returns a matplotlib ``Figure``; the widgets redraw the
same figures, so the static book shows exactly what the widgets show."""
