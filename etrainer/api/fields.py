"""Serializer fields shared by every app's API."""

import datetime as dt

from rest_framework import serializers


class DateTimeField(serializers.DateTimeField):
    """A datetime as the database keeps it on every engine: to the millisecond.

    MongoDB stores milliseconds, SQL engines microseconds. Answering with milliseconds everywhere
    means the value a create returns (still in memory, with microseconds) is the value every later
    read returns, whichever engine stored it.
    """

    def to_representation(self, value):
        if isinstance(value, dt.datetime):
            value = value.replace(microsecond=value.microsecond - value.microsecond % 1000)
        return super().to_representation(value)
