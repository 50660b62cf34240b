"""A fake Cloudinary HTTP server for tests, run as its own process on a loopback port.

The real SDK talks to it through ``upload_prefix`` (upload, chunked upload, destroy, and the Admin
API's resource info, usage and ping all build their URLs from it). It records every call and can be
told to answer 500s, 401s or slowly. Control endpoints live under ``/__``: ``GET /__calls``,
``POST /__reset``, ``POST /__mode?mode=ok|error|slow|unauthorized&delay=S&uploads_ok=N``
(``uploads_ok``: with mode ``error``, the first N uploads succeed; after them uploads fail, and
with ``&scope=all`` every other call fails too).

Uploads whose public id contains ``reject-me`` get Cloudinary's 400 "Invalid image file".

Run: ``python -m media.tests.fake_cloudinary`` (prints its port on the first line of stdout).
"""

import base64
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_API = re.compile(r"^/v1_1/(?P<cloud>[^/]+)/(?P<rest>.+)$")


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.calls: list[dict] = []
        self.resources: dict[str, dict] = {}
        self.partial: dict[str, int] = {}
        self.mode = "ok"
        self.delay = 0.0
        self.uploads_ok: int | None = None
        self.uploads_seen = 0
        self.scope = "uploads"


STATE = State()


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, object]]:
    """Form fields as text; the file part reduced to its name and size."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, str] = {}
    file: dict[str, object] = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, data = part[2:-2].partition(b"\r\n\r\n")
        disposition = head.decode(errors="replace")
        name = re.search(r'name="([^"]*)"', disposition).group(1)
        filename = re.search(r'filename="([^"]*)"', disposition)
        if filename:
            file = {"filename": filename.group(1), "size": len(data)}
        else:
            fields[name] = data.decode(errors="replace")
    return fields, file


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/__calls":
            with STATE.lock:
                return self._send(200, {"calls": STATE.calls})
        self._api("GET", b"")

    def do_POST(self) -> None:
        body = self._body()
        url = urlsplit(self.path)
        if url.path == "/__reset":
            with STATE.lock:
                STATE.reset()
            return self._send(200, {})
        if url.path == "/__mode":
            query = parse_qs(url.query)
            with STATE.lock:
                STATE.mode = query.get("mode", ["ok"])[0]
                STATE.delay = float(query.get("delay", ["0"])[0])
                uploads_ok = query.get("uploads_ok")
                STATE.uploads_ok = int(uploads_ok[0]) if uploads_ok else None
                STATE.scope = query.get("scope", ["uploads"])[0]
            return self._send(200, {})
        self._api("POST", body)

    def _api(self, method: str, body: bytes) -> None:
        url = urlsplit(self.path)
        match = _API.match(url.path)
        fields, file = {}, {}
        if body and "multipart/form-data" in self.headers.get("Content-Type", ""):
            fields, file = parse_multipart(body, self.headers["Content-Type"])
        call = {
            "method": method,
            "path": url.path,
            "query": url.query,
            "fields": fields,
            "file": file,
            "content_range": self.headers.get("Content-Range"),
            "basic_auth": _basic_auth(self.headers.get("Authorization", "")),
        }
        with STATE.lock:
            STATE.calls.append(call)
            mode, delay = STATE.mode, STATE.delay
            if STATE.uploads_ok is not None and mode == "error":
                is_upload = url.path.endswith("/upload")
                STATE.uploads_seen += is_upload
                spared = not is_upload and STATE.scope == "uploads"
                if spared or STATE.uploads_seen <= STATE.uploads_ok:
                    mode = "ok"
        if mode == "slow":
            time.sleep(delay)
        if mode == "error":
            return self._send(500, {"error": {"message": "Internal error (fake)"}})
        if mode == "unauthorized":
            return self._send(401, {"error": {"message": "Invalid api_key (fake)"}})
        if match is None:
            return self._send(404, {"error": {"message": "Unknown path"}})
        status, payload = route(method, match["cloud"], match["rest"], fields, call)
        self._send(status, payload)


def _basic_auth(header: str) -> str | None:
    if not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode()


def route(method: str, cloud: str, rest: str, fields: dict, call: dict) -> tuple[int, dict]:
    if method == "GET" and rest == "ping":
        return 200, {"status": "ok"}
    if method == "GET" and rest == "usage":
        return 200, usage()
    if method == "GET" and rest.startswith("resources/"):
        _, resource_type, _, public_id = rest.split("/", 3)
        with STATE.lock:
            resource = STATE.resources.get(public_id)
        if resource is None or resource["resource_type"] != resource_type:
            return 404, {"error": {"message": f"Resource not found - {public_id}"}}
        return 200, resource
    resource_type, _, action = rest.partition("/")
    if method == "POST" and action == "upload":
        return upload(cloud, resource_type, fields, call)
    if method == "POST" and action == "destroy":
        with STATE.lock:
            removed = STATE.resources.pop(fields.get("public_id", ""), None)
        return 200, {"result": "ok" if removed else "not found"}
    return 404, {"error": {"message": "Unknown endpoint"}}


def upload(cloud: str, resource_type: str, fields: dict, call: dict) -> tuple[int, dict]:
    if "signature" not in fields or "api_key" not in fields:
        return 401, {"error": {"message": "Missing signature"}}
    public_id = fields.get("public_id", "")
    if "reject-me" in public_id:
        return 400, {"error": {"message": "Invalid image file"}}
    size = int(call["file"].get("size", 0))
    content_range = call["content_range"]
    if content_range:
        total = int(content_range.rsplit("/", 1)[1])
        with STATE.lock:
            STATE.partial[public_id] = STATE.partial.get(public_id, 0) + size
            received = STATE.partial[public_id]
        if received < total:
            return 200, {"done": False, "public_id": public_id}
        size = total
    filename = str(call["file"].get("filename", ""))
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    resource = {
        "public_id": public_id,
        "version": 1,
        "resource_type": resource_type,
        "type": "upload",
        "format": "" if resource_type == "raw" else extension,
        "bytes": size,
        "created_at": "2026-01-01T00:00:00Z",
        "secure_url": f"https://res.cloudinary.com/{cloud}/{resource_type}/upload/v1/{public_id}",
    }
    if resource_type == "image":
        resource.update(width=640, height=480)
    if resource_type == "video":
        resource["duration"] = 12.5
    with STATE.lock:
        STATE.resources[public_id] = resource
    return 200, resource


def usage() -> dict:
    with STATE.lock:
        stored = sum(resource["bytes"] for resource in STATE.resources.values())
        count = len(STATE.resources)
    return {
        "plan": "Free",
        "last_updated": "2026-01-01",
        "credits": {"usage": 0.5, "limit": 25},
        "storage": {"usage": stored},
        "bandwidth": {"usage": 0},
        "resources": count,
        "derived_resources": 0,
    }


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
