from accounts.models import RevokedToken


def refresh_token_is_revoked(*, jti: str) -> bool:
    return RevokedToken.objects.filter(jti=jti).exists()
