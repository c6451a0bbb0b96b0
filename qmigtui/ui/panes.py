"""The panes of the app, in the order of their keys: adding a pane is one entry here (and its
own module with a ``SPEC``)."""

from __future__ import annotations

from qmigtui.ui.config_panes import CapabilitiesPane, ParametersPane
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.graphs_pane import GraphsPane
from qmigtui.ui.pane import Pane
from qmigtui.ui.status_pane import StatusPane
from qmigtui.ui.tools_pane import ToolsPane

PANES: tuple[type[Pane], ...] = (StatusPane, GraphsPane, CapabilitiesPane, ParametersPane,
                                 EventsPane, ToolsPane, ConsolePane)
