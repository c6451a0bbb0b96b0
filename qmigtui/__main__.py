"""``python -m qmigtui``."""

from qmigtui.cli.main import main

raise SystemExit(main())
