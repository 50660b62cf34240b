"""Vietnamese and English: the user's stored language, else Accept-Language, else the default.

Every test looks at what a learner reads: the error envelope's message, the stored notice, the
email in the outbox (sent by the real email path into Django's locmem backend).
"""

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import ngettext
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from notifications.models import Notification
from subscriptions import services as subscription_services
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

INVALID = {"vi": "Yêu cầu không hợp lệ.", "en": "The request is invalid."}
NO_SUBSCRIPTION = {"vi": "Không tìm thấy gói đăng ký.", "en": "Subscription not found."}
FORBIDDEN = {
    "vi": "Bạn không được cấp quyền để thực hiện hành động này.",
    "en": "You do not have permission to perform this action.",
}


def message(response) -> str:
    return response.json()["error"]["message"]


# --- anonymous requests: Accept-Language ------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "language"),
    [("vi", "vi"), ("vi-VN,vi;q=0.9,en;q=0.5", "vi"), ("en-US,en;q=0.8", "en"), ("fr", "en")],
)
def test_an_anonymous_request_follows_accept_language(accept, language):
    response = APIClient().post("/api/auth/token", {}, format="json", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 400
    assert message(response) == INVALID[language]
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]


@override_settings(LANGUAGE_CODE="vi")
def test_an_unsupported_or_missing_accept_language_gets_the_site_default():
    client = APIClient()

    unsupported = client.post("/api/auth/token", {}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    missing = client.post("/api/auth/token", {}, format="json")

    assert message(unsupported) == message(missing) == INVALID["vi"]
    assert missing["Content-Language"] == "vi"


# --- signed-in users: User.language wins --------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_learner_reads_errors_in_their_language_whatever_the_header(language):
    # given: a client whose browser asks for the other language
    other = "en" if language == "vi" else "vi"
    client = bearer_client(UserFactory(language=language))
    headers = {"HTTP_ACCEPT_LANGUAGE": other}

    # when
    invalid = client.patch("/api/me", {"language": "fr"}, format="json", **headers)
    missing = client.get("/api/subscriptions/000000000000000000000000", **headers)
    forbidden = client.get("/api/system/jobs/stats", **headers)

    # then
    assert (invalid.status_code, message(invalid)) == (400, INVALID[language])
    assert invalid.json()["error"]["code"] == "validation_error"
    assert "language" in invalid.json()["error"]["details"]["fields"]
    assert (missing.status_code, message(missing)) == (404, NO_SUBSCRIPTION[language])
    assert (forbidden.status_code, message(forbidden)) == (403, FORBIDDEN[language])
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert forbidden["Content-Language"] == language


def test_the_session_user_reads_their_language():
    client = APIClient()
    client.force_login(UserFactory(language="vi"))

    response = client.get("/api/subscriptions/000000000000000000000000")

    assert message(response) == NO_SUBSCRIPTION["vi"]


def test_the_hot_path_answers_in_the_cached_language_without_a_query(django_assert_num_queries):
    # given: a warm access check of a Vietnamese learner
    user = UserFactory(language="vi")
    client = bearer_client(user)
    client.get("/api/me/access")

    # when
    with django_assert_num_queries(0):
        warm = client.get("/api/me/access", HTTP_ACCEPT_LANGUAGE="en")

    # then
    assert warm.status_code == 200
    assert warm["Content-Language"] == "vi"


def test_changing_the_language_takes_effect_on_the_next_request_even_on_the_cached_path():
    user = UserFactory(language="vi")
    client = bearer_client(user)
    assert client.get("/api/me/access")["Content-Language"] == "vi"  # the cached entry is warm

    changed = client.patch("/api/me", {"language": "en"}, format="json")

    assert changed.status_code == 200
    assert changed.json()["language"] == "en"
    assert client.get("/api/me/access")["Content-Language"] == "en"
    assert (
        message(client.patch("/api/me", {"timezone": "Mars/Base"}, format="json"))
        == (INVALID["en"])
    )


# --- stored notices and emails: written in the recipient's language ------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "minutes"),
    [
        ("vi", "Đặt lại mật khẩu ETrainer của bạn", "Xin chào Lan,", "trong vòng 60 phút"),
        ("en", "Reset your ETrainer password", "Hello Lan,", "within 60 minutes"),
    ],
)
def test_account_emails_go_out_in_the_recipients_language(
    language, subject, greeting, minutes, django_capture_on_commit_callbacks
):
    # given: the request itself asks for the other language
    UserFactory(email="lan@example.com", first_name="Lan", language=language)
    other = "en" if language == "vi" else "vi"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            "/api/auth/password/reset",
            {"email": "lan@example.com"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=other,
        )

    # then: subject and body (the stored text and the template around it)
    assert response.status_code in (200, 202)
    [email] = mail.outbox
    assert email.subject == subject
    assert greeting in email.body
    assert minutes in email.body
    html = email.alternatives[0][0]
    assert f'lang="{language}"' in html
    assert greeting in html


def test_expiry_notices_are_stored_in_each_learners_language(django_capture_on_commit_callbacks):
    # given: two learners whose paid subscriptions ended yesterday
    plan = PlanFactory(price_cents=900)
    ended = timezone.now() - dt.timedelta(days=1)
    for language in ("vi", "en"):
        SubscriptionFactory(
            user=UserFactory(language=language),
            plan=plan,
            started_at=ended - dt.timedelta(days=30),
            ends_at=ended,
        )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.subscriptions_expire_due()

    # then: in-app and email notices, each in its learner's language
    titles = {
        (n.user.language, n.channel): (n.title, n.body)
        for n in Notification.objects.select_related("user")
    }
    assert titles[("vi", "in_app")] == (
        "Gói đăng ký của bạn đã kết thúc",
        "Hãy gia hạn hoặc chọn một gói để tiếp tục truy cập các khóa học của bạn.",
    )
    assert titles[("en", "email")] == (
        "Your subscription has ended",
        "Renew it or choose a plan to keep access to your courses.",
    )
    subjects = {email.to[0]: email.subject for email in mail.outbox}
    assert sorted(subjects.values()) == [
        "Gói đăng ký của bạn đã kết thúc",
        "Your subscription has ended",
    ]


# --- plural forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [("en", "1 day", "2 days"), ("vi", "1 ngày", "2 ngày")],
)
def test_counts_take_the_languages_plural_form(language, one, two):
    with translation.override(language):
        texts = [ngettext("%(count)d day", "%(count)d days", n) % {"count": n} for n in (1, 2)]

    assert texts == [one, two]
