"""Production refuses signing keys: short, repetitive, placeholders or published examples."""

import secrets

import pytest

from etrainer.secret_keys import example_values, weak_key_reason
from etrainer.tests.subprocess_env import ROOT, env_file, manage, production_env

EXAMPLE = env_file(ROOT / ".env.production.example")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("x" * 49, "under 50"),
        ("ab" * 40, "distinct characters"),
        ("CHANGE-ME-" + secrets.token_urlsafe(50), "placeholder marker"),
        (secrets.token_urlsafe(40) + "changeme", "placeholder marker"),
        ("django-insecure-" + secrets.token_urlsafe(50), "placeholder marker"),
        (EXAMPLE["DJANGO_SECRET_KEY"], "example value published"),
        (EXAMPLE["JWT_SIGNING_KEY"], "example value published"),
    ],
    # ids without the random keys: every xdist worker must collect the same test names
    ids=["short", "low-variety", "change-me", "changeme-suffix", "django-insecure",
         "example-secret-key", "example-jwt-key"],
)  # fmt: skip
def test_weak_keys_are_named_with_their_reason(key, reason):
    assert reason in weak_key_reason(key, example_values(ROOT))


def test_a_published_example_value_is_refused_even_without_a_marker(tmp_path):
    (tmp_path / ".env.production.example").write_text(
        "# DJANGO_SECRET_KEY=kQ7vR9xN4pL8wT1mB6yH3cF5jD0sA9gE2uK7oV4iX8qW1zP6nM3rY5tU0bZ\n"
    )

    reason = weak_key_reason(
        "kQ7vR9xN4pL8wT1mB6yH3cF5jD0sA9gE2uK7oV4iX8qW1zP6nM3rY5tU0bZ", example_values(tmp_path)
    )

    assert reason == "it is the example value published in the repository"


def test_a_random_key_passes():
    assert weak_key_reason(secrets.token_urlsafe(50), example_values(ROOT)) is None


def _check(env):
    return manage("check", env=env)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="the-example-value"),
        pytest.param("s3cr3t-but-short", id="short"),
        pytest.param("a1" * 30, id="low-variety"),
    ],
)
def test_production_refuses_to_start_with_a_weak_key(tmp_path, name, value):
    # given the production example with good keys, but one key weak (or left as shipped)
    env = production_env(tmp_path)
    env[name] = EXAMPLE[name] if value is None else value

    # when
    result = _check(env)

    # then it stops with one line saying what to set and how to generate it
    assert result.returncode != 0
    [line] = [ln for ln in result.stderr.splitlines() if f"{name} is unfit for production" in ln]
    assert f"Set {name} to a new random value" in line
    assert "secrets.token_urlsafe(50)" in line


@pytest.mark.slow
def test_production_starts_with_good_keys(tmp_path):
    result = _check(production_env(tmp_path))

    assert result.returncode == 0, result.stderr
