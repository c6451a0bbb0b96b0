"""``python -m qmigtui``."""

from qmigtui.cli import main

raise SystemExit(main())
