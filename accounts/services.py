from accounts.models import User, UserRole
from etrainer.api.errors import ApplicationError, ErrorCode


def user_create(
    *,
    email: str,
    password: str | None,
    role: str = UserRole.LEARNER,
    is_staff: bool = False,
    first_name: str = "",
    last_name: str = "",
    timezone: str = "UTC",
) -> User:
    user = User(
        email=User.objects.normalize_email(email),
        role=role,
        is_staff=is_staff,
        is_superuser=is_staff,
        first_name=first_name,
        last_name=last_name,
        timezone=timezone,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def user_update_profile(*, user: User, data: dict) -> User:
    """Update the fields a user may change about themselves."""
    allowed = {"first_name", "last_name", "timezone"}
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "These fields cannot be changed here.",
            details={"fields": {name: ["Not allowed."] for name in sorted(unknown)}},
        )
    for name, value in data.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=sorted(data))
    return user
