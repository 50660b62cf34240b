"""HTTP helpers for the security tests; the server is testsupport.processes.GunicornServer."""

from testsupport.processes import http_request


def http_status(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    status, response_headers, _ = http_request(url, headers=headers)
    return status, response_headers
