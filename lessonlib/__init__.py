"""lessonlib: the code behind *From One-Hot to Attention*.

Numpy reference implementations (``lessonlib.text``, ``lessonlib.representations``),
figures (``lessonlib.viz``), widgets (``lessonlib.widgets``), offline data
(``lessonlib.data``) and the exercise engine (``lessonlib.exercises``).
"""

__version__ = "0.1.0"
