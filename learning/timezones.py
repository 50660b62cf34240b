"""The user's local calendar: streaks and "today" are counted in the user's IANA timezone, and the
hourly jobs find the zones whose wall clock is at a given local time."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# A run missed (worker or beat down, queue backed up) is caught up by the next runs for this many
# hours after the local start time; dedupe keys make the catch-up send nothing twice.
CATCH_UP_HOURS = 3


def user_zone(name: str) -> ZoneInfo:
    """The user's zone; UTC if the stored name is unknown (it is validated on save, but zone data
    can change under a running deployment)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(user_zone(zone_name)).date()


def utc_hour(moment: datetime) -> datetime:
    """The UTC hour ``moment`` falls in: every run within one UTC hour selects the same zones."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The IANA names a ``User.timezone`` may hold (the validator's set), read once per process."""
    return frozenset(available_timezones())


@lru_cache(maxsize=8)
def _wall_clocks(hour: datetime) -> tuple[tuple[str, datetime], ...]:
    """Every zone's naive wall-clock time at this UTC hour."""
    clocks = []
    for name in sorted(zone_names()):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        clocks.append((name, hour.astimezone(zone).replace(tzinfo=None)))
    return tuple(clocks)


@lru_cache(maxsize=32)
def _zones_in_window(
    hour: datetime, start: time, hours: int, weekday: int | None
) -> dict[date, frozenset[str]]:
    window = timedelta(hours=hours)
    found: dict[date, set[str]] = {}
    for name, clock in _wall_clocks(hour):
        since_start = clock - datetime.combine(clock.date(), start)
        if timedelta(0) <= since_start < window and weekday in (None, clock.weekday()):
            found.setdefault(clock.date(), set()).add(name)
    return {day: frozenset(names) for day, names in found.items()}


def zones_in_local_window(
    moment: datetime, *, start: time, hours: int = CATCH_UP_HOURS, weekday: int | None = None
) -> dict[date, frozenset[str]]:
    """The zones whose wall clock, at the UTC hour of ``moment``, is within ``hours`` after
    ``start`` (on ``weekday``, 0 = Monday, if given), grouped by their local date.

    Measured at the UTC hour, so a zone with a half-hour offset (Asia/Kolkata, +05:30) is first
    selected at ``start`` + 30 min local, one at +05:45 (Asia/Kathmandu) at + 45 min. Zones are
    grouped by date because one UTC instant is the same wall clock on two dates (Pacific/Kiritimati,
    +14, and Pacific/Honolulu, -10). Cached per process per UTC hour: ~600 zones are converted once.
    """
    return _zones_in_window(utc_hour(moment), start, hours, weekday)


def local_midnight(day: date, zone_name: str) -> datetime:
    """00:00 of ``day`` in the zone, as a UTC instant (the start of that local day)."""
    return datetime.combine(day, time.min, tzinfo=user_zone(zone_name)).astimezone(UTC)
