"""The user's local calendar: streaks and "today" are counted in the user's IANA timezone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def user_zone(name: str) -> ZoneInfo:
    """The user's zone; UTC if the stored name is unknown (it is validated on save, but zone data
    can change under a running deployment)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(user_zone(zone_name)).date()
