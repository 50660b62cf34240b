"""Refresh tokens that can be revoked: rotation and logout put their id on a deny-list."""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import RevokedToken
from accounts.selectors import refresh_token_is_revoked
from accounts.services import refresh_token_revoke


class RevocableRefreshToken(RefreshToken):
    """simplejwt's RefreshToken with our portable deny-list in place of its token_blacklist app.

    simplejwt's refresh serializer calls ``blacklist()`` before it rotates (ROTATE_REFRESH_TOKENS
    with BLACKLIST_AFTER_ROTATION) and ``outstand()`` after; there is no outstanding-token list
    here, only revoked ids.
    """

    def verify(self) -> None:
        super().verify()
        if refresh_token_is_revoked(jti=self.payload[api_settings.JTI_CLAIM]):
            raise TokenError("Token is revoked")

    def blacklist(self) -> RevokedToken:
        revoked, created = refresh_token_revoke(token=self)
        if not created:
            raise TokenError("Token is revoked")
        return revoked

    def outstand(self) -> None:
        return None
