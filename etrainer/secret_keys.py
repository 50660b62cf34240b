"""Refuse weak signing keys in production: short, low in variety, placeholders, published examples.

A key copied from ``.env.production.example`` is public: anyone can sign a session or a JWT with it
(a forged token names any user, staff included). So production settings check each signing key
when they load, and a weak one stops the process with one line saying what to set.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50  # Django's own deploy check (security.W009) asks for this much
MIN_DISTINCT_CHARACTERS = 10
PLACEHOLDER_MARKERS = (
    "change-me",
    "change_me",
    "changeme",
    "replace-me",
    "replaceme",
    "placeholder",
    "example",
    "insecure",
    "not-for-production",
    "your-secret",
    "secret-key",
)
EXAMPLE_FILES = (".env.production.example", ".env.example")
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def example_values(base_dir: Path) -> frozenset[str]:
    """Every value the shipped example files give (commented-out lines included)."""
    values = set()
    for name in EXAMPLE_FILES:
        path = base_dir / name
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            _, sep, value = line.lstrip("# ").partition("=")
            value = value.strip().strip("'\"")
            if sep and value:
                values.add(value)
    return frozenset(values)


def weak_key_reason(value: str, examples: frozenset[str] = frozenset()) -> str | None:
    """Why ``value`` is not fit to sign anything in production, or None when it is."""
    lowered = value.lower()
    if value in examples:
        return "it is the example value published in the repository"
    marker = next((m for m in PLACEHOLDER_MARKERS if m in lowered), None)
    if marker:
        return f"it contains the placeholder marker {marker!r}"
    if len(value) < MIN_LENGTH:
        return f"it is {len(value)} characters long, under {MIN_LENGTH}"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"it uses fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


def require_strong_key(name: str, value: str, examples: frozenset[str] = frozenset()) -> str:
    """Return ``value``, or raise ImproperlyConfigured with a one-line message naming ``name``."""
    reason = weak_key_reason(value, examples) if value else None
    if value and not reason:
        return value
    problem = f"is unfit for production: {reason}" if value else "is not set"
    raise ImproperlyConfigured(
        f"{name} {problem}. Set {name} to a new random value of at least {MIN_LENGTH} "
        f"characters (generate one with: {GENERATE})."
    )
