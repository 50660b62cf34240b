"""The language a response speaks: the signed-in user's choice, else Accept-Language, else the
site default.

``LocaleMiddleware`` activates the language of ``Accept-Language`` (or ``LANGUAGE_CODE``) for every
request and sets ``Content-Language`` and ``Vary: Accept-Language`` on the response from the
language active when the view returns. The API authenticates inside DRF, after the middleware, so
each of the project's authentication classes calls ``activate_user_language`` once it knows the
user: the stored ``User.language`` then wins over the header (a shared browser or a client that
sends its OS language must not override what the learner chose). The language travels with the
user row or the cached user entry, so switching costs no query.
"""

from django.conf import settings
from django.utils import translation


def supported_language(code: str | None) -> str | None:
    """``code`` if it is one of ``LANGUAGES``, else None."""
    if code and code in dict(settings.LANGUAGES):
        return code
    return None


def activate_user_language(code: str | None) -> None:
    """Answer this request in the user's stored language (an unknown value changes nothing)."""
    language = supported_language(code)
    if language is not None:
        translation.activate(language)
