"""The schema is the truth (issue 12 item 12): schemathesis generates requests from the served
/openapi.json for every operation and checks each answer against it — no 5xx, the status, the
content type and the body as documented — on SQLite and on PostgreSQL, as an admin, a clerk and
nobody. Bounded: a few examples per operation (HALL_FUZZ_EXAMPLES, default 10)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.hall.conftest import Hall

EXAMPLES = int(os.environ.get("HALL_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _seed(hall: Hall) -> None:
    # Something to read and act on: a signed-in window, a called and a waiting ticket.
    hall.post("/api/halls/tiny/windows/1/sign-in")
    hall.issue()
    hall.issue("B")
    hall.post("/api/halls/tiny/windows/1/call")


def _call(hall: Hall, case: Any, auth: dict[str, str]) -> Any:
    kw = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
    kw.pop("cookies", None)
    if "data" in kw:
        kw["content"] = kw.pop("data")
    return hall.client.request(**kw)


@pytest.mark.slow
@pytest.mark.parametrize("who", ["admin", "staff", None])
def test_every_answer_matches_the_served_schema(hall: Hall, who: str | None) -> None:
    _seed(hall)
    document = hall.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    auth = hall.headers(who) if who else {}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the served document itself is valid
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = _call(hall, case, auth)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as e:  # noqa: BLE001 - collected, reported together below
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: "
                                f"{str(e)[:300]}")

        run()
    assert operations > 20
    assert not failures, "\n".join(failures[:20])
