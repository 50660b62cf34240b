"""A fake Stripe API on a loopback port, for the real SDK (``STRIPE_API_BASE`` points at it).

It answers the calls the subscriptions make (Checkout Sessions, Subscriptions retrieve, update and
cancel) with Stripe-shaped JSON, records each call (method, path, form fields), and can be told to
fail (``fail = True``: Stripe's 500 error object). Runs in a thread; ``stop()`` shuts it down.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qsl

_ids = count(1)


class FakeStripe:
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.subscriptions: dict[str, dict] = {}
        self.fail = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def calls_to(self, method: str, path: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == method and c["path"] == path]

    def add_subscription(self, stripe_id: str, price_id: str) -> None:
        self.subscriptions[stripe_id] = {
            "id": stripe_id,
            "object": "subscription",
            "status": "active",
            "cancel_at_period_end": False,
            "items": {
                "object": "list",
                "data": [{"id": f"si_{stripe_id}", "object": "subscription_item",
                          "price": {"id": price_id, "object": "price"}}],
            },
        }  # fmt: skip

    def answer(self, method: str, path: str, form: dict) -> tuple[int, dict]:
        if self.fail:
            return 500, {"error": {"type": "api_error", "message": "fake outage"}}
        if method == "POST" and path == "/v1/checkout/sessions":
            session_id = f"cs_test_{next(_ids)}"
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "client_reference_id": form.get("client_reference_id"),
            }
        if path.startswith("/v1/subscriptions/"):
            stripe_id = path.rsplit("/", 1)[1]
            sub = self.subscriptions.get(stripe_id)
            if sub is None:
                missing = {"type": "invalid_request_error", "code": "resource_missing"}
                return 404, {"error": {**missing, "message": f"No such subscription: {stripe_id}"}}
            if method == "POST":
                if "cancel_at_period_end" in form:
                    sub["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
                if "items[0][price]" in form:
                    sub["items"]["data"][0]["price"]["id"] = form["items[0][price]"]
            if method == "DELETE":
                sub["status"] = "canceled"
            return 200, sub
        return 404, {"error": {"type": "invalid_request_error", "message": "unknown path"}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                form = dict(parse_qsl(body, keep_blank_values=True))
                path = self.path.split("?", 1)[0]
                fake.calls.append({"method": self.command, "path": path, "form": form,
                                   "auth": self.headers.get("Authorization", "")})  # fmt: skip
                status, payload = fake.answer(self.command, path, form)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

        return Handler
