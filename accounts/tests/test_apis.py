import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def obtain_tokens(client, email, password=DEFAULT_PASSWORD):
    return client.post("/api/auth/token", {"email": email, "password": password}, format="json")


def test_token_then_me_then_refresh(api_client):
    # given
    user = UserFactory(
        email="ada@example.com", first_name="Ada", timezone="Asia/Bangkok", language="vi"
    )

    # when
    tokens = obtain_tokens(api_client, "ada@example.com")

    # then
    assert tokens.status_code == 200
    access, refresh = tokens.json()["access"], tokens.json()["refresh"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api_client.get("/api/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": str(user.pk),
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": user.last_name,
        "role": "learner",
        "timezone": "Asia/Bangkok",
        "language": "vi",
        "is_staff": False,
        "date_joined": me.json()["date_joined"],
    }
    refreshed = api_client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
    assert refreshed.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/me").json()["email"] == "ada@example.com"


def test_login_email_is_case_insensitive(api_client):
    UserFactory(email="grace@example.com")

    assert obtain_tokens(api_client, "  Grace@Example.COM ").status_code == 200


def test_wrong_password_is_401_in_the_envelope(api_client):
    UserFactory(email="alan@example.com")

    response = obtain_tokens(api_client, "alan@example.com", "wrong-password")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_inactive_user_gets_no_token(api_client):
    UserFactory(email="gone@example.com", is_active=False)

    assert obtain_tokens(api_client, "gone@example.com").status_code == 401


def test_refresh_with_an_access_token_is_refused(api_client):
    UserFactory(email="kat@example.com")
    access = obtain_tokens(api_client, "kat@example.com").json()["access"]

    response = api_client.post("/api/auth/token/refresh", {"refresh": access}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_me_is_one_query_for_the_user(learner_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert learner_client.get("/api/me").status_code == 200


def test_patch_me_updates_profile_fields(learner_client, learner):
    response = learner_client.patch(
        "/api/me", {"first_name": "Lin", "timezone": "Pacific/Kiritimati"}, format="json"
    )

    assert response.status_code == 200
    learner.refresh_from_db()
    assert (learner.first_name, learner.timezone) == ("Lin", "Pacific/Kiritimati")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"email": "new@example.com"}, "email"),
        ({"role": "staff"}, "role"),
    ],
)
def test_patch_me_rejects_bad_or_forbidden_fields_and_changes_nothing(
    learner_client, learner, payload, field
):
    response = learner_client.patch("/api/me", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
    fresh = User.objects.get(pk=learner.pk)
    assert (fresh.timezone, fresh.email, fresh.role) == (learner.timezone, learner.email, "learner")
