"""/api/docs works offline: the page and everything it loads come from the app itself.

Fetched over HTTP from pytest-django's live server, which serves static files the way
``make run`` (runserver) does; in production nginx serves the same files from collectstatic.
"""

import json
import re
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest


class AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.links.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.links.append(attributes["href"])


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (live server URL)
        return response.status, response.headers.get_content_type(), response.read()


@pytest.fixture
def docs_page(live_server):
    status, content_type, body = fetch(f"{live_server.url}/api/docs")
    assert (status, content_type) == (200, "text/html")
    parser = AssetLinks()
    parser.feed(body.decode())
    return live_server.url, parser.links


def test_the_docs_page_loads_no_asset_from_another_host(docs_page):
    base, links = docs_page

    assert len(links) >= 4  # stylesheet, favicon, bundle, preset (+ the init script)
    for link in links:
        assert urlsplit(urljoin(f"{base}/api/docs", link)).netloc == urlsplit(base).netloc, link


def test_every_asset_of_the_docs_page_is_served_by_the_app(docs_page):
    base, links = docs_page

    bodies = {}
    for link in links:
        status, content_type, body = fetch(urljoin(f"{base}/api/docs", link))
        assert status == 200, link
        assert body, link
        bodies[link] = (content_type, body)

    kinds = [content_type for content_type, _ in bodies.values()]
    assert "text/css" in kinds
    assert any("javascript" in kind for kind in kinds)
    bundle = next(body for link, (_, body) in bodies.items() if "swagger-ui-bundle.js" in link)
    assert b"SwaggerUIBundle" in bundle


def test_the_init_script_points_swagger_ui_at_the_apps_own_schema(docs_page):
    base, links = docs_page
    script_link = next(link for link in links if "script" in urlsplit(link).query)

    _, _, script = fetch(urljoin(f"{base}/api/docs", script_link))
    schema_url = json.loads(re.search(rb'\burl: ("[^"]+")', script).group(1))
    status, _, schema = fetch(urljoin(f"{base}/api/docs", schema_url))

    assert urlsplit(schema_url).netloc in ("", urlsplit(base).netloc)
    assert status == 200
    assert b"openapi: 3." in schema
