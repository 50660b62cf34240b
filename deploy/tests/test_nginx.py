"""The production nginx.conf in a real nginx, in front of two real gunicorn instances of the app.

One nginx and two gunicorns for the module (stopped by pid at the end). Tests run in file order:
the failover tests, last, stop the instances one by one.
"""

import gzip
import http.client
import json
import os
import socket
import ssl

import pytest

from deploy.tests.nginx_harness import Gunicorn, Nginx, NginxLayout, nginx_binary, served
from deploy.tests.nginx_harness import self_signed_certificate as make_certificate
from media.validation import Category, request_max_bytes
from testsupport.processes import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        nginx_binary() is None, reason="nginx is not installed (.ci/run installs it)"
    ),
]

PROBE = "/api/_probe"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "deploy.tests.nginx_settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'app.sqlite3'}",
        # The app's own limiter is off so that every 429 seen here is nginx's.
        "RATELIMIT_ENABLE": "false",
    }
    apps = [Gunicorn(workdir, env), Gunicorn(workdir, env)]
    nginx = None
    try:
        for app in apps:
            app.start()
        cert, key = make_certificate(workdir)
        layout = NginxLayout(
            prefix=workdir,
            http_port=free_port(),
            https_port=free_port(),
            upstreams=[f"127.0.0.1:{app.port}" for app in apps],
            cert=cert,
            key=key,
        )
        nginx = Nginx(layout).start()
        yield apps, layout
    finally:
        if nginx:
            nginx.stop()
        for app in apps:
            app.stop()


def request(layout, method, path, *, body=None, headers=None, tls=True):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", layout.https_port, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", layout.http_port)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def assert_envelope(response, body, code):
    """nginx's own errors use the API's envelope, so clients never parse an HTML page."""
    assert response.getheader("Content-Type").startswith("application/json")
    error = json.loads(body)["error"]
    assert (error["code"], error["details"]) == (code, {})
    assert error["message"]


def test_requests_reach_both_instances(stack):
    apps, layout = stack

    statuses = [request(layout, "GET", PROBE)[0].status for _ in range(8)]

    assert statuses == [200] * 8
    counts = served(apps, PROBE, 8)
    assert sum(counts) == 8
    assert min(counts) >= 2, counts


def test_security_headers_on_every_answer_once_each(stack):
    _, layout = stack

    response, _ = request(layout, "GET", PROBE)

    assert response.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    assert response.getheader("Server") == "nginx"
    for header, value in [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ]:
        assert response.headers.get_all(header) == [value], header
    assert response.getheader("Permissions-Policy")
    assert response.getheader("X-Request-ID")


def test_json_answers_are_gzipped(stack):
    _, layout = stack

    response, body = request(layout, "GET", PROBE, headers={"Accept-Encoding": "gzip"})

    assert response.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in response.getheader("Vary")
    assert len(json.loads(gzip.decompress(body))["items"]) == 60


def test_plain_http_redirects_to_https_but_serves_health(stack):
    _, layout = stack

    redirect, _ = request(layout, "GET", PROBE, tls=False)
    health, _ = request(layout, "GET", "/health", tls=False)

    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://127.0.0.1{PROBE}"
    assert health.status != 301


def test_tls_is_1_2_or_newer_with_http2(stack):
    _, layout = stack
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])

    with (
        socket.create_connection(("127.0.0.1", layout.https_port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        negotiated = (tls.version(), tls.selected_alpn_protocol())

    assert negotiated == ("TLSv1.3", "h2")


def test_auth_zone_answers_429_with_the_json_envelope_past_its_burst(stack):
    apps, layout = stack
    before = sum(served(apps, "/api/auth/token", 0))
    headers = {"Content-Type": "application/json"}

    answers = [
        request(layout, "POST", "/api/auth/token", body=b"{}", headers=headers) for _ in range(12)
    ]

    statuses = [response.status for response, _ in answers]
    passed = [status for status in statuses if status != 429]
    assert 6 <= len(passed) <= 7, statuses  # 1 + burst 5 (+1 if a 6 s token refilled meanwhile)
    assert statuses[len(passed) :] == [429] * (12 - len(passed))
    assert sum(served(apps, "/api/auth/token", before + len(passed))) - before == len(passed)
    limited, body = answers[-1]
    assert limited.getheader("Retry-After") == "60"
    assert limited.getheader("X-Content-Type-Options") == "nosniff"
    assert_envelope(limited, body, "rate_limited")


def test_health_has_no_rate_limit(stack):
    _, layout = stack

    statuses = [request(layout, "GET", "/health")[0].status for _ in range(40)]

    assert 429 not in statuses


def send_declared_body(layout, path: str, declared: int):
    """Declare a large Content-Length but send only a few bytes: nginx decides on the header."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", layout.https_port, context=context)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "multipart/form-data; boundary=etr")
        conn.putheader("Content-Length", str(declared))
        conn.endheaders(b"--etr\r\n")
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_a_video_over_the_apps_maximum_is_refused_by_nginx_before_the_app(stack):
    apps, layout = stack

    response, body = send_declared_body(
        layout, "/api/uploads/videos", request_max_bytes(Category.VIDEOS) + 1
    )

    assert response.status == 413
    assert_envelope(response, body, "payload_too_large")
    assert served(apps, "/api/uploads/videos", 1, timeout=1.0) == [0, 0]


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        *((f"/api/uploads/{c}", request_max_bytes(c)) for c in Category),
        ("/api/me", 1 * MiB),
    ],
)
def test_each_route_refuses_one_byte_over_its_limit(stack, path, limit):
    _, layout = stack

    response, body = send_declared_body(layout, path, limit + 1)

    assert response.status == 413
    assert_envelope(response, body, "payload_too_large")


def test_a_full_batch_the_app_accepts_is_not_refused_by_nginx(stack):
    """5 documents of 20 MB each: nginx waits for the body instead of answering 413 at once."""
    _, layout = stack
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", layout.https_port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        declared = request_max_bytes(Category.DOCUMENTS)
        tls.sendall(
            b"POST /api/uploads/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=etr\r\n"
            + f"Content-Length: {declared}\r\n\r\n".encode()
        )
        tls.settimeout(1.0)
        with pytest.raises(TimeoutError):
            tls.recv(1024)


def raw_exchange(layout, data: bytes, *, tls: bool) -> tuple[int, dict, bytes]:
    """Send bytes as they are (http.client refuses to send a malformed request) and parse the
    answer: status, headers (lower-case names) and body."""
    port = layout.https_port if tls else layout.http_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        conn = raw
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = context.wrap_socket(raw)
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain"])
@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"GET /api/me HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request"),
        (
            b"GET /api/" + b"x" * 9000 + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            414,
            "bad_request",
        ),
    ],
    ids=["no-host-400", "long-uri-414"],
)
def test_nginx_own_errors_are_the_json_envelope_on_both_servers(stack, data, status, code, tls):
    _, layout = stack

    got_status, headers, body = raw_exchange(layout, data, tls=tls)

    assert got_status == status
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert (error["code"], error["details"]) == (code, {})


def test_plain_http_on_the_tls_port_is_the_json_envelope(stack):
    _, layout = stack
    with socket.create_connection(("127.0.0.1", layout.https_port), timeout=5) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_uploaded_media_are_served_from_the_media_volume(stack):
    _, layout = stack
    image = layout.media / "etrainer" / "images" / "abc123.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)

    response, body = request(layout, "GET", "/media/etrainer/images/abc123.png")
    missing, missing_body = request(layout, "GET", "/media/etrainer/images/gone.png")

    assert response.status == 200
    assert body == image.read_bytes()
    assert response.getheader("Content-Type") == "image/png"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Strict-Transport-Security")
    assert missing.status == 404
    assert_envelope(missing, missing_body, "not_found")


def test_metrics_are_not_served_at_the_edge(stack):
    _, layout = stack

    response, body = request(layout, "GET", "/metrics")

    assert response.status == 403
    assert_envelope(response, body, "permission_denied")


def test_a_stopped_instance_fails_over_to_the_other(stack):
    apps, layout = stack
    first, second = apps
    before = second.requests_for(PROBE)

    first.stop()
    statuses = [request(layout, "GET", PROBE)[0].status for _ in range(6)]

    assert statuses == [200] * 6
    assert served([second], PROBE, before + 6) == [before + 6]


def test_with_every_instance_down_nginx_answers_503_json(stack):
    apps, layout = stack
    for app in apps:
        app.stop()

    response, body = request(layout, "GET", PROBE)
    health, health_body = request(layout, "GET", "/health", tls=False)

    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert_envelope(response, body, "service_unavailable")
    assert health.status == 503
    assert_envelope(health, health_body, "service_unavailable")
