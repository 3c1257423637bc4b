"""Property-based fuzzing of the API from its own OpenAPI document: every schemathesis
check (status codes, content types, headers and bodies as documented, invalid data
refused, valid data not refused by validation, auth enforced), positive and negative.

The fuzz server can never start a job (running-jobs quota 0) and has 1 MiB of memory
capacity, so generated commands stay queued and anything that starts at once
(notebooks, services) is refused or OOM-killed immediately: fuzzing runs nothing.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from platform_helpers import Server, kill_all_runs

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the [test] extra")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("fuzz") / "data",
        "--cpu",
        "1",
        "--memory-mb",
        "1",
        "--quota-running-jobs",
        "0",
    )
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


@pytest.fixture(scope="module")
def fuzz_token(fuzz_server):
    return fuzz_server.new_user("fuzzer")


@pytest.fixture(scope="module")
def api_schema(fuzz_server, fuzz_token):
    doc = httpx.get(
        fuzz_server.url + "/openapi.json", headers={"Authorization": f"Bearer {fuzz_token}"}
    ).json()
    return schemathesis.openapi.from_dict(doc)


def _operations(api_schema):
    ops = [result.ok() for result in api_schema.get_all_operations()]
    assert len(ops) >= 25, [op.label for op in ops]
    return ops


def _all_checks():
    """Every schemathesis check that judges one response (max_response_time aside: speed is
    not asserted in tests), with positive_data_acceptance replaced by
    ``_schema_valid_is_not_refused_by_validation``."""
    from schemathesis import checks as c

    return [
        c.not_a_server_error,
        c.status_code_conformance,
        c.content_type_conformance,
        c.response_headers_conformance,
        c.response_schema_conformance,
        c.negative_data_rejection,
        c.use_after_free,
        c.ensure_resource_availability,
        c.ignored_auth,
        c.missing_required_header,
        c.unsupported_method,
    ]


def _schema_valid_is_not_refused_by_validation(response: httpx.Response, case) -> None:
    """positive_data_acceptance, minus the refusals the schema cannot state.

    A schema-valid request may still be refused on its meaning (this server's capacity
    is 1 MiB, a path that does not exist, an upload that is not an archive): those
    answers are 413/422 with a service error code. What must never happen is the server's
    *validation* (code ``validation_error``) refusing what its own schema allows.
    """
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409):
        return
    assert status in (413, 422), (case.method, case.formatted_path, status, response.text[:300])
    code = response.json()["error"]["code"]
    assert code != "validation_error", (case.method, case.formatted_path, case.body, response.text)


# schemathesis' own pytest plugin does not load under this pytest version, so each
# operation's strategy is driven by a plain Hypothesis test instead.
def _fuzz(op, mode, url: str, headers: dict, statuses: list[int]) -> None:
    from schemathesis.generation import GenerationMode

    checks = _all_checks()

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(base_url=url, headers=headers, timeout=30)
        statuses.append(response.status_code)
        case.validate_response(
            response,
            checks=checks,
            headers=headers,
            transport_kwargs={"base_url": url, "headers": headers},
        )
        if mode is GenerationMode.POSITIVE:
            _schema_valid_is_not_refused_by_validation(response, case)

    try:
        check()
    except Unsatisfiable:  # no parameters: nothing negative to generate
        assert mode is GenerationMode.NEGATIVE, op.label


def test_all_schemathesis_checks_pass(api_schema, fuzz_server, fuzz_token):
    from schemathesis.generation import GenerationMode

    headers = {"Authorization": f"Bearer {fuzz_token}"}
    statuses: list[int] = []
    for op in _operations(api_schema):
        for mode in GenerationMode:
            _fuzz(op, mode, fuzz_server.url, headers, statuses)
    assert len(statuses) > 300 and {200, 404, 422} <= set(statuses), sorted(set(statuses))
