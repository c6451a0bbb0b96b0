"""The app on a lab pair, as the UI tests use it."""

from tests.ui.conftest import lab_app  # noqa: F401 (a fixture)
