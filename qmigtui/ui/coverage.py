"""Where each command and event of migration.json lives in the app (the README's table comes
from here, and a test holds it to the schema file)."""

from __future__ import annotations

TOOLS = "6 Tools (a form from the live schema) and 7 Console"

COMMANDS: dict[str, str] = {
    "migrate": "m starts a migration; r sends it with resume=true to recover",
    "migrate-incoming": "m runs it on the destination first (lab: on a free port)",
    "migrate-recover": "r, on the destination, before the source resumes",
    "migrate-pause": "z (asks first)",
    "migrate-continue": "n, from pre-switchover or device",
    "migrate_cancel": "x (asks first); advice 'cancel'",
    "migrate-start-postcopy": "p (asks first); advice 'switch to postcopy'",
    "migrate-set-capabilities": "3 Capabilities: space (both sides), s / d (one side)",
    "migrate-set-parameters": "4 Parameters: enter / d (editor); advice a",
    "query-migrate": "polled for 1 Status and 2 Graphs; on every MIGRATION event",
    "query-migrate-capabilities": "3 Capabilities, read on connect and after each change",
    "query-migrate-parameters": "4 Parameters, read on connect and after each change",
    "calc-dirty-rate": "D (1 s, 2 s and a first pass's length); 6 Tools form with every mode",
    "query-dirty-rate": "read after each measurement; e lists them; 6 Tools (live)",
    "set-vcpu-dirty-limit": "advice 'limit vCPU dirty rate'; 6 Tools form",
    "cancel-vcpu-dirty-limit": "6 Tools form (asks first)",
    "query-vcpu-dirty-limit": "6 Tools, a live table of limit and current rate per vCPU",
    "query-migrationthreads": "6 Tools, a live table with host thread ids and their CPU",
    "snapshot-save": "6 Tools form, followed as a job to concluded",
    "snapshot-load": "6 Tools form (asks first), followed as a job",
    "snapshot-delete": "6 Tools form (asks first), followed as a job",
    "query-colo-status": "6 Tools (live), where QEMU was built with replication",
    "x-colo-lost-heartbeat": "6 Tools (asks first), where QEMU was built with replication",
    "query-xen-replication-status": "6 Tools, where QEMU has it",
    "xen-save-devices-state": "6 Tools form, where QEMU has it",
    "xen-load-devices-state": "6 Tools form (asks first), where QEMU has it",
    "xen-set-global-dirty-log": "6 Tools form (asks first), where QEMU has it",
    "xen-set-replication": "6 Tools form (asks first), where QEMU has it",
    "xen-colo-do-checkpoint": "6 Tools (asks first), where QEMU has it",
}

EVENTS: dict[str, str] = {
    "MIGRATION": "1 Status at once, then a poll for the numbers; 5 Events",
    "MIGRATION_PASS": "the pass count in 1 Status and the forecast's pass timing; 5 Events",
    "COLO_EXIT": "5 Events (mode and reason)",
    "UNPLUG_PRIMARY": "5 Events; 1 Status explains the wait-unplug status",
}
