"""Refresh tokens that can be revoked: rotation and logout put their id on a deny-list, and a bump
of the user's token version (password change, deactivation, logout-all) revokes them all."""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import RevokedToken
from accounts.selectors import refresh_token_is_revoked, user_token_version
from accounts.services import refresh_token_revoke
from etrainer.api.authentication import TOKEN_VERSION_CLAIM, token_is_current


class RevocableRefreshToken(RefreshToken):
    """simplejwt's RefreshToken with our portable deny-list in place of its token_blacklist app.

    simplejwt's refresh serializer calls ``blacklist()`` before it rotates (ROTATE_REFRESH_TOKENS
    with BLACKLIST_AFTER_ROTATION) and ``outstand()`` after; there is no outstanding-token list
    here, only revoked ids. The user's token version rides in the token (and so in every access
    token made from it, and through rotation).
    """

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        return token

    def verify(self) -> None:
        super().verify()
        if refresh_token_is_revoked(jti=self.payload[api_settings.JTI_CLAIM]):
            raise TokenError("Token is revoked")
        version = user_token_version(user_id=self.payload.get(api_settings.USER_ID_CLAIM))
        if version is None or not token_is_current(self.payload, version):
            raise TokenError("Token is revoked")

    def blacklist(self) -> RevokedToken:
        revoked, created = refresh_token_revoke(token=self)
        if not created:
            raise TokenError("Token is revoked")
        return revoked

    def outstand(self) -> None:
        return None
