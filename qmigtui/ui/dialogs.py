"""Modal dialogs: confirmation, start a migration, recover a postcopy, edit a parameter, filter
events."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from qmigtui.model import cpr, recovery
from qmigtui.model import parameters as parammodel
from qmigtui.model.recovery import RecoveryAddresses

DIALOG_CSS = """
ModalScreen { align: center middle; }
ModalScreen > Vertical {
    width: 80%; max-width: 90; height: auto; padding: 1 2;
    border: thick $primary; background: $surface;
}
ModalScreen .hint { color: $text-muted; }
ModalScreen .error { color: $error; }
ModalScreen Horizontal { height: auto; margin-top: 1; }
ModalScreen Button { margin-right: 2; }
"""


class Confirm(ModalScreen[bool]):
    """Yes or no, with the exact commands that will be sent."""

    DEFAULT_CSS = DIALOG_CSS + """
    Confirm VerticalScroll { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, detail: str = ""):
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            if self.detail:  # a long one (an exercise's summary) scrolls; the buttons stay in view
                with VerticalScroll():
                    yield Static(self.detail, classes="hint", markup=False)
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


@dataclass(frozen=True)
class StartChoice:
    """What the start dialog was told: where to, (where the destination's QEMU takes it)
    whether that QEMU exits if the incoming migration fails, and (where the source has
    migration modes) the mode with what it needs."""

    uri: str
    exit_on_error: bool | None = None
    request: cpr.StartRequest | None = None


class StartMigration(ModalScreen["StartChoice | None"]):
    """Ask for the URI (socket, unix, exec, file, rdma) to migrate to, and the migration mode
    where the source's QEMU has modes (a cpr channel for cpr-transfer, the new QEMU's command
    line for cpr-exec)."""

    DEFAULT_CSS = DIALOG_CSS + """
    StartMigration .cpr-only { display: none; }
    StartMigration Select { margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, default_uri: str, has_destination: bool, manager_peer: str | None = None,
                 exit_on_error: bool = False, modes: tuple[str, ...] = (), mode: str = cpr.NORMAL):
        super().__init__()
        self.default_uri, self.has_destination = default_uri, has_destination
        self.manager_peer = manager_peer  # a domain under libvirt: where libvirt sends it
        self.offer_exit_on_error = exit_on_error  # the destination's migrate-incoming takes it
        self.modes = modes if len(modes) > 1 else ()  # offered where the source has a choice
        self.mode = mode if mode in self.modes else cpr.NORMAL

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.modes:
                yield Label("Migration mode:", markup=False)
                # a mode is a name from QEMU's schema: shown as text, never read as markup
                yield Select([(Text(f"{m}: {cpr.MEANING.get(m, '(new in this QEMU)')}"), m)
                              for m in self.modes], value=self.mode, allow_blank=False, id="mode")
            yield Label("Start a migration to:", markup=False)
            yield Input(self.default_uri, id="uri",  # the placeholder is a hint, never a value
                        placeholder="type the destination's address: tcp:HOST:PORT, unix:/path, "
                                    "exec:CMD, file:/path")
            yield Input("", id="cpr-channel", classes="cpr-only",
                        placeholder="the cpr channel: unix:/path (the new QEMU's second -incoming)")
            yield Input("", id="exec-command", classes="cpr-only",
                        placeholder="the new QEMU's command line, with -incoming file:/path (or defer)")
            yield Static(self._hint(), id="hint", classes="hint", markup=False)
            if self.offer_exit_on_error:
                yield Checkbox("the destination QEMU exits if the migration fails "
                               "(migrate-incoming exit-on-error)", True, id="exit-on-error")
            yield Static("", id="error", classes="error", markup=False)

    def on_mount(self) -> None:
        self._show_mode()
        self.query_one("#uri", Input).focus()  # Enter starts; the mode is a Tab away

    def _hint(self) -> str:
        if self.manager_peer is not None:
            return (f"libvirt sends the domain to {self.manager_peer or '(no --dest-connect)'} "
                    "and prepares it there; this is the stream's address (empty: libvirt's "
                    "choice).")
        if self.mode == cpr.TRANSFER:
            return ("Start the new QEMU first with both -incoming options (the main address "
                    "above, then the cpr channel as JSON); nothing is sent to it before the "
                    "migrate, whose channels are the two addresses.")
        if self.mode == cpr.EXEC:
            return ("The source QEMU saves its state to the address above (file:/path) and "
                    "execs the command line below in its place; it asks first.")
        if self.mode == cpr.REBOOT:
            return "The state goes to the address above (file:/path); start a QEMU later with -incoming."
        return ("The destination gets migrate-incoming on the matching address first."
                if self.has_destination else "Start the destination with -incoming first.")

    def _show_mode(self) -> None:
        self.query_one("#cpr-channel", Input).display = self.mode == cpr.TRANSFER
        self.query_one("#exec-command", Input).display = self.mode == cpr.EXEC
        self.query_one("#hint", Static).update(self._hint())
        with contextlib.suppress(NoMatches):
            self.query_one("#exit-on-error", Checkbox).display = self.mode == cpr.NORMAL

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "mode" and isinstance(event.value, str):
            self.mode = event.value
            self.query_one("#error", Static).update("")
            self._show_mode()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        uri = self.query_one("#uri", Input).value.strip()
        if not uri and self.manager_peer is not None:
            self.dismiss(StartChoice(""))  # libvirt picks the address
            return
        wrong = recovery.problems(uri, connecting=True)  # no placeholder, no wildcard host
        if wrong:
            self._error(f"{wrong[0]} (tcp:HOST:PORT, unix:/path, ...)")
            return
        request = None
        if self.modes:
            request = cpr.StartRequest(uri, self.mode,
                                       self.query_one("#cpr-channel", Input).value.strip(),
                                       self.query_one("#exec-command", Input).value.strip())
            try:
                cpr.check(request, self.modes)
            except cpr.CprError as err:
                self._error(str(err))
                return
        exit_on_error = (self.query_one("#exit-on-error", Checkbox).value
                         if self.offer_exit_on_error and self.mode == cpr.NORMAL else None)
        self.dismiss(StartChoice(uri, exit_on_error, request))

    def _error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)


class EditParameter(ModalScreen["str | None"]):
    """Edit one parameter; the input is checked as it is typed and nothing invalid is sent."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, name: str, side: str, current: Any, qtype: str | None = None):
        super().__init__()
        self.param, self.side, self.current, self.qtype = name, side, current, qtype

    def compose(self) -> ComposeResult:
        meta = parammodel.info(self.param)
        qtype: Any = self.qtype
        if qtype is None:
            try:
                qtype = parammodel.qapi_type(self.param)
            except KeyError:
                qtype = "str"
        rng = f" range {meta.lo}..{meta.hi}" if meta.lo is not None and meta.hi is not None else ""
        with Vertical():
            live = "  ● takes effect now" if meta.live else ""
            yield Label(f"{self.param} on {self.side}{live}", markup=False)
            yield Static(f"{meta.help} ({qtype}, {meta.unit}{rng})", classes="hint", markup=False)
            yield Input(parammodel.format_input(self.param, self.current), id="value")
            yield Static("", id="error", classes="error", markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#error", Static).update(self._problem(event.value))

    def _problem(self, text: str) -> str:
        try:
            parammodel.parse_input(self.param, text, self.qtype)
        except ValueError as e:
            return str(e)
        return ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        problem = self._problem(event.value)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(event.value)


class RecoverPostcopy(ModalScreen["RecoveryAddresses | None"]):
    """Both recovery steps as fields, prefilled with real addresses and editable; nothing with
    a placeholder or a wildcard host goes out.  Without a destination session the
    destination's step is shown to be run there (QMP, HMP, virsh) and only the source's is
    sent from here."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, addresses: RecoveryAddresses, has_destination: bool):
        super().__init__()
        self.addresses, self.has_destination = addresses, has_destination

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Recover the paused postcopy, in this order:", markup=False)
            if self.has_destination:
                yield Label("1. the destination listens again (migrate-recover) on:", markup=False)
            else:
                yield Label("1. on the destination host (not connected here) run one of these, "
                            "listening on:", markup=False)
            yield Input(self.addresses.listen, id="listen", placeholder="tcp:HOST:PORT or unix:/path")
            if not self.has_destination:
                yield Static("", id="elsewhere", classes="hint", markup=False)
            yield Label("2. the source connects to it and resumes (migrate, resume):", markup=False)
            yield Input(self.addresses.connect, id="connect", placeholder="tcp:HOST:PORT")
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="sends", classes="hint", markup=False)
            yield Static("enter sends · escape cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        self._refresh()

    def _typed(self) -> RecoveryAddresses:
        return RecoveryAddresses(self.query_one("#listen", Input).value.strip(),
                                 self.query_one("#connect", Input).value.strip())

    def _problems(self, typed: RecoveryAddresses) -> list[str]:
        found = recovery.problems(typed.listen, connecting=False) if self.has_destination else []
        return found + recovery.problems(typed.connect, connecting=True)

    def _refresh(self) -> None:
        typed = self._typed()
        problems = self._problems(typed)
        self.query_one("#error", Static).update(problems[0] if problems else "")
        steps = recovery.qmp_steps(typed)
        if self.has_destination:
            sends = f"sends: destination {steps['destination']}\n       source {steps['source']}"
        else:
            sends = f"sends: source {steps['source']}"
            self.query_one("#elsewhere", Static).update("\n".join(recovery.steps_for("destination",
                                                                                      typed)))
        self.query_one("#sends", Static).update(sends)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._refresh()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = self._typed()
        if self._problems(typed):
            self._refresh()
            return
        self.dismiss(typed)


class AskText(ModalScreen["str | None"]):
    """One line of text (the events filter)."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, prompt: str, value: str = ""):
        super().__init__()
        self.prompt, self.value = prompt, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt, markup=False)
            yield Input(self.value, id="text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
