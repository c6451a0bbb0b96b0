"""The model's copy of migration.json stays in step with the schema file."""

from __future__ import annotations

from qmigtui.model import qapi_spec
from qmigtui.model.qapi_file import read_qapi_file
from tests.conftest import MIGRATION_JSON, require


def test_spec_holds_every_definition_of_the_schema_file_unchanged():
    require(MIGRATION_JSON.exists(), "shared/qapi/migration.json is not beside the repository")
    tables = {"struct": qapi_spec.STRUCTS, "enum": qapi_spec.ENUMS, "union": qapi_spec.UNIONS,
              "command": qapi_spec.COMMANDS, "event": qapi_spec.EVENTS}
    count = 0
    for expr in read_qapi_file(MIGRATION_JSON):
        kind = next((k for k in tables if k in expr), None)
        if kind is None:
            continue
        body = {k: v for k, v in expr.items() if k != kind}
        assert tables[kind].get(expr[kind]) == body, expr[kind]
        count += 1
    assert count == sum(len(t) for t in tables.values())
