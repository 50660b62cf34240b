from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.login_limits import login_failure_record, login_retry_after
from accounts.models import User


class RateLimitedModelBackend(ModelBackend):
    """ModelBackend that refuses an account after too many failed logins, whatever the door.

    Raising PermissionDenied makes django.contrib.auth.authenticate() stop and fail, so the admin
    login and the token endpoint are both covered without touching either view.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if login is None or password is None:
            return None
        if login_retry_after(request, str(login)):
            raise PermissionDenied("Too many failed logins for this account.")
        user = super().authenticate(request, username=login, password=password)
        if user is None:
            login_failure_record(request, str(login))
        return user
