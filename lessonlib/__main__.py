"""``python -m lessonlib`` runs the ``lessonlib`` command."""

from lessonlib.cli import main

raise SystemExit(main())
