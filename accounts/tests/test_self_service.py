"""Accounts a learner runs alone (issue 20): sign-up and verification, password reset and change,
erasure and export, walked through the API with the emails taken from the outbox."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from conftest import bearer_client
from learning.models import ExamHistory
from media.models import MediaAsset
from media.tests import samples
from notifications.models import Notification
from notifications.services import notify
from subscriptions.models import Plan, Subscription

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-17"
NEWER = "another-unusual-passphrase-29"


@pytest.fixture
def run_commit_callbacks(django_capture_on_commit_callbacks):
    """Emails are queued after the commit; run those callbacks as a real commit would."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def post(path: str, data: dict, client: APIClient | None = None):
    return (client or APIClient()).post(path, data, format="json")


def login(email: str, password: str):
    return post("/api/auth/token", {"email": email, "password": password})


def link_params(message) -> dict[str, str]:
    url = re.search(r"https?://\S+", message.body).group(0)
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def register(run, email: str, password: str = STRONG, **extra):
    return run(lambda: post("/api/auth/register", {"email": email, "password": password, **extra}))


# --- sign-up and verification -------------------------------------------------------------------


def test_register_then_verify_by_the_emailed_key_then_log_in(run_commit_callbacks, settings):
    # given: a Vietnamese site (the test settings' default is English)
    settings.DEFAULT_USER_LANGUAGE = "vi"

    # when
    response = register(run_commit_callbacks, "New.Person@Example.com", timezone="Asia/Ho_Chi_Minh")

    # then: an inactive account and one email with the frontend's verification link
    assert response.status_code == 202, response.content
    user = User.objects.get(email="new.person@example.com")
    assert (user.is_active, user.timezone, user.language) == (False, "Asia/Ho_Chi_Minh", "vi")
    assert login("new.person@example.com", STRONG).status_code == 401
    [message] = mail.outbox
    assert message.to == ["new.person@example.com"]
    assert "http://localhost:3000/verify-email?key=" in message.body

    # when: the key from the email is posted
    verified = post("/api/auth/verify-email", {"key": link_params(message)["key"]})

    # then
    assert verified.status_code == 200, verified.content
    assert verified.json() == {"email": "new.person@example.com", "is_active": True}
    tokens = login("new.person@example.com", STRONG)
    assert tokens.status_code == 200
    me = bearer(tokens.json()["access"]).get("/api/me").json()
    assert (me["language"], me["timezone"]) == ("vi", "Asia/Ho_Chi_Minh")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_language_is_stored_and_defaults_from_the_environment(run_commit_callbacks, settings):
    settings.DEFAULT_USER_LANGUAGE = "en"
    register(run_commit_callbacks, "a@example.com")
    register(run_commit_callbacks, "b@example.com", language="vi")
    assert User.objects.get(email="a@example.com").language == "en"
    assert User.objects.get(email="b@example.com").language == "vi"
    response = register(run_commit_callbacks, "c@example.com", language="fr")
    assert response.status_code == 400
    assert not User.objects.filter(email="c@example.com").exists()


def test_a_taken_address_answers_exactly_like_a_new_one(run_commit_callbacks, learner):
    # when
    new = register(run_commit_callbacks, "fresh@example.com")
    taken = register(run_commit_callbacks, learner.email.upper())

    # then: same status and body; the owner is told by email, their account is untouched
    assert (taken.status_code, taken.json()) == (new.status_code, new.json())
    assert User.objects.filter(email=learner.email).count() == 1
    learner.refresh_from_db()
    assert learner.is_active
    assert learner.check_password(DEFAULT_PASSWORD)
    owner_mail = [message for message in mail.outbox if message.to == [learner.email]]
    assert len(owner_mail) == 1
    assert "verify-email" not in owner_mail[0].body


def test_a_weak_password_is_refused_and_nothing_is_stored(run_commit_callbacks):
    response = register(run_commit_callbacks, "weak@example.com", password="password")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]["fields"]) == {"password"}
    assert not User.objects.filter(email="weak@example.com").exists()
    assert mail.outbox == []


def test_a_verification_key_works_once_and_a_forged_one_never(run_commit_callbacks):
    register(run_commit_callbacks, "once@example.com")
    key = link_params(mail.outbox[0])["key"]
    assert post("/api/auth/verify-email", {"key": key}).status_code == 200

    # a staff deactivation is not undone by the old key
    User.objects.filter(email="once@example.com").update(is_active=False)
    again = post("/api/auth/verify-email", {"key": key})
    forged = post("/api/auth/verify-email", {"key": key[:-3] + "abc"})

    for response in (again, forged):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
    assert not User.objects.get(email="once@example.com").is_active


def test_resend_answers_the_same_for_unknown_and_pending_addresses(run_commit_callbacks):
    register(run_commit_callbacks, "pending@example.com")
    mail.outbox.clear()
    Notification.objects.all().delete()  # the first email's dedupe window

    pending = run_commit_callbacks(
        lambda: post("/api/auth/verify-email/resend", {"email": "pending@example.com"})
    )
    unknown = run_commit_callbacks(
        lambda: post("/api/auth/verify-email/resend", {"email": "nobody@example.com"})
    )

    assert (pending.status_code, pending.json()) == (unknown.status_code, unknown.json())
    assert pending.status_code == 202
    assert [message.to for message in mail.outbox] == [["pending@example.com"]]
    key = link_params(mail.outbox[0])["key"]
    assert post("/api/auth/verify-email", {"key": key}).status_code == 200


# --- password reset and change ------------------------------------------------------------------


def test_reset_by_the_emailed_link_ends_every_old_session(run_commit_callbacks, learner):
    # given: a session
    old = login(learner.email, DEFAULT_PASSWORD).json()

    # when: a reset is asked for, for the learner and for an unknown address
    asked = run_commit_callbacks(lambda: post("/api/auth/password/reset", {"email": learner.email}))
    unknown = run_commit_callbacks(
        lambda: post("/api/auth/password/reset", {"email": "ghost@example.com"})
    )

    # then: the same 202; one email, with a link to the frontend
    assert (
        (asked.status_code, asked.json())
        == (unknown.status_code, unknown.json())
        == (
            202,
            asked.json(),
        )
    )
    [message] = mail.outbox
    assert message.to == [learner.email]
    params = link_params(message)
    assert "http://localhost:3000/reset-password?" in message.body

    # when: the link is used
    confirmed = run_commit_callbacks(
        lambda: post("/api/auth/password/reset/confirm", {**params, "new_password": NEWER})
    )

    # then: the old refresh and access tokens are refused, the new password works
    assert confirmed.status_code == 204, confirmed.content
    assert post("/api/auth/token/refresh", {"refresh": old["refresh"]}).status_code == 401
    assert bearer(old["access"]).get("/api/me").status_code == 401
    assert login(learner.email, DEFAULT_PASSWORD).status_code == 401
    assert login(learner.email, NEWER).status_code == 200
    # and the link works once
    reused = post("/api/auth/password/reset/confirm", {**params, "new_password": STRONG})
    assert reused.status_code == 400


def test_a_reset_link_expires(run_commit_callbacks, learner, settings):
    run_commit_callbacks(lambda: post("/api/auth/password/reset", {"email": learner.email}))
    params = link_params(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1

    response = post("/api/auth/password/reset/confirm", {**params, "new_password": NEWER})

    assert response.status_code == 400
    learner.refresh_from_db()
    assert learner.check_password(DEFAULT_PASSWORD)


def test_change_password_needs_the_current_one_and_ends_old_sessions(run_commit_callbacks, learner):
    old = login(learner.email, DEFAULT_PASSWORD).json()
    client = bearer(old["access"])

    wrong = post(
        "/api/auth/password/change",
        {"current_password": "not-it", "new_password": NEWER},
        client,
    )
    assert wrong.status_code == 400
    assert set(wrong.json()["error"]["details"]["fields"]) == {"current_password"}
    assert client.get("/api/me").status_code == 200

    changed = run_commit_callbacks(
        lambda: post(
            "/api/auth/password/change",
            {"current_password": DEFAULT_PASSWORD, "new_password": NEWER},
            client,
        )
    )

    assert changed.status_code == 204, changed.content
    assert client.get("/api/me").status_code == 401
    assert post("/api/auth/token/refresh", {"refresh": old["refresh"]}).status_code == 401
    assert login(learner.email, NEWER).status_code == 200
    assert [message.to for message in mail.outbox] == [[learner.email]]  # "password changed"


# --- erasure and export -------------------------------------------------------------------------


@pytest.fixture
def person_with_data(learner, settings, tmp_path):
    """A learner with an exam, a notification, a subscription and an uploaded image on disk."""
    settings.MEDIA_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    ExamHistory.objects.create(
        user=learner,
        exam_code="toeic-1",
        score=7,
        max_score=10,
        duration_s=60,
        taken_at=timezone.now(),
    )
    notify(user=learner, kind="system", title="Hello there")
    plan = Plan.objects.create(code="export-basic", name="Basic", tier=1)
    Subscription.objects.create(
        user=learner, plan=plan, ends_at=timezone.now() + timezone.timedelta(days=30)
    )
    upload = bearer_client(learner).post(
        "/api/uploads/images",
        {"files": [SimpleUploadedFile("me.png", samples.png())]},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    return learner


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_export_holds_the_persons_histories_notifications_and_subscriptions(person_with_data):
    other = UserFactory()
    notify(user=other, kind="system", title="Not yours")

    response = bearer_client(person_with_data).get("/api/me/export")

    assert response.status_code == 200
    data = response.json()
    assert data["user"]["email"] == person_with_data.email
    assert data["user"]["id"] == str(person_with_data.pk)
    assert [row["exam_code"] for row in data["exam_histories"]] == ["toeic-1"]
    assert [row["title"] for row in data["notifications"]] == ["Hello there"]
    assert [row["plan"] for row in data["subscriptions"]] == ["export-basic"]
    assert [row["original_name"] for row in data["media"]] == ["me.png"]


def test_delete_me_needs_the_password_and_erases_the_person(
    person_with_data, settings, run_commit_callbacks
):
    client = bearer_client(person_with_data)
    other = UserFactory()
    notify(user=other, kind="system", title="Stays")
    assert len(stored_files(settings.MEDIA_ROOT)) == 1

    wrong = client.delete("/api/me", {"password": "not-it"}, format="json")
    assert wrong.status_code == 400
    assert User.objects.filter(pk=person_with_data.pk).exists()

    erased = run_commit_callbacks(
        lambda: client.delete("/api/me", {"password": DEFAULT_PASSWORD}, format="json")
    )

    assert erased.status_code == 204, erased.content
    assert not User.objects.filter(pk=person_with_data.pk).exists()
    assert not ExamHistory.objects.exists()
    assert not Subscription.objects.exists()
    assert not MediaAsset.objects.exists()
    assert list(Notification.objects.values_list("title", flat=True)) == ["Stays"]
    assert stored_files(settings.MEDIA_ROOT) == []
    assert client.get("/api/me").status_code == 401


def test_a_stolen_access_token_cannot_read_a_reset_link(run_commit_callbacks, learner):
    # given: someone holding the learner's access token while a reset is asked for
    thief = bearer(login(learner.email, DEFAULT_PASSWORD).json()["access"])
    run_commit_callbacks(lambda: post("/api/auth/password/reset", {"email": learner.email}))
    [message] = mail.outbox
    token = link_params(message)["token"]
    stored = Notification.objects.get(user=learner, kind="account_password_reset")

    # when: they read the learner's notifications, the list and the one notice
    listed = thief.get("/api/notifications")
    fetched = thief.get(f"/api/notifications/{stored.pk}")

    # then: the account email is in neither, and the stored copy no longer holds the link
    assert listed.status_code == 200
    assert token not in listed.content.decode()
    assert all(row["kind"] != "account_password_reset" for row in listed.json()["results"])
    assert fetched.status_code == 404
    stored.refresh_from_db()
    assert stored.sent_at is not None
    assert token not in stored.body
    assert token not in thief.get("/api/me/export").content.decode()


def test_an_unknown_default_language_stops_start_up(settings):
    settings.DEFAULT_USER_LANGUAGE = "fr"

    errors = run_checks()

    assert [error.id for error in errors if error.id.startswith("accounts.")] == ["accounts.E001"]
