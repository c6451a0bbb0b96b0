"""Secrets never reach the audit log or a recording."""

from __future__ import annotations

from qmigtui.model.redact import redact_args, redact_message


def test_secret_object_data_is_hidden_in_qmp_and_hmp():
    args = {"qom-type": "secret", "id": "sec0", "data": "hunter2", "format": "raw"}
    assert redact_args("object-add", args) == args | {"data": "***"}
    assert args["data"] == "hunter2"  # the command sent is untouched
    hmp = redact_args("human-monitor-command",
                      {"command-line": "object_add secret,id=s0,data=hunter2,format=raw"})
    assert hmp == {"command-line": "object_add secret,id=s0,data=***,format=raw"}


def test_passwords_in_uris_and_password_arguments_are_hidden():
    msg = {"execute": "migrate", "arguments": {"uri": "tcp:h:4444",
                                               "channels": [{"addr": {"url": "rdma://u:s3cret@h/x"}}]},
           "id": "1"}
    out = redact_message(msg)
    assert out["arguments"]["channels"][0]["addr"]["url"] == "rdma://u:***@h/x"
    assert redact_args("x-thing", {"password": "pw", "user": "u"}) == {"password": "***", "user": "u"}
    assert redact_message({"execute": "query-migrate", "id": "2"}) == {"execute": "query-migrate", "id": "2"}
