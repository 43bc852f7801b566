"""Conversions between Avro logical types and their Python values, called by generated code.

The generated classes convert logical values themselves and hand fastavro plain values over
a schema stripped of logical types: fastavro's own generic conversions cost about 40% of its
time, and straight-line calls to these small functions are much cheaper.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

__all__ = [
    "bytes_to_decimal",
    "date_to_days",
    "datetime_to_micros",
    "datetime_to_millis",
    "days_to_date",
    "decimal_to_bytes",
    "decimal_to_fixed",
    "local_datetime_to_micros",
    "local_datetime_to_millis",
    "micros_to_datetime",
    "micros_to_local_datetime",
    "micros_to_time",
    "millis_to_datetime",
    "millis_to_local_datetime",
    "millis_to_time",
    "string_to_uuid",
    "time_to_micros",
    "time_to_millis",
    "utc_now",
]

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_DATE = datetime.date(1970, 1, 1)
# Readers multiply these (exact integer arithmetic) rather than call ``timedelta(unit=n)``,
# whose keyword parsing costs more than the addition itself.
_DAY = datetime.timedelta(days=1)
_MILLISECOND = datetime.timedelta(milliseconds=1)
_MICROSECOND = datetime.timedelta(microseconds=1)
# Wide enough that scaling any Avro decimal (precision <= 76 here) never rounds.
_EXACT = decimal.Context(prec=100, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_new_uuid = object.__new__
_set_slot = object.__setattr__  # UUID forbids attribute assignment; its own code does this
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown  # what uuid.UUID(text) records


def _unscaled(value: decimal.Decimal, precision: int, scale: int) -> int:
    if not value.is_finite():
        raise ValueError(f"decimal {value} is not a finite number")
    scaled = value.scaleb(scale, _EXACT)
    unscaled = int(scaled)
    if scaled != unscaled:
        raise ValueError(f"decimal {value} has more than {scale} decimal place(s)")
    if abs(unscaled) >= 10**precision:
        raise ValueError(f"decimal {value} has more than {precision} significant digit(s)")
    return unscaled


def decimal_to_bytes(value: decimal.Decimal, precision: int, scale: int) -> bytes:
    """Two's-complement big-endian bytes of the unscaled value (decimal on bytes)."""
    unscaled = _unscaled(value, precision, scale)
    return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)


def decimal_to_fixed(value: decimal.Decimal, precision: int, scale: int, size: int) -> bytes:
    """The unscaled value sign-extended to ``size`` bytes (decimal on fixed)."""
    try:
        return _unscaled(value, precision, scale).to_bytes(size, "big", signed=True)
    except OverflowError as error:
        raise ValueError(f"decimal {value} does not fit in {size} byte(s)") from error


def bytes_to_decimal(data: bytes, scale: int) -> decimal.Decimal:
    """The decimal whose unscaled two's-complement value is ``data``."""
    return decimal.Decimal(int.from_bytes(data, "big", signed=True)).scaleb(-scale, _EXACT)


def string_to_uuid(value: str) -> uuid.UUID:
    """``uuid.UUID(value)``, built straight from the parsed number when ``value`` is hex.

    A third cheaper than ``uuid.UUID(value)`` and exactly equal: the fast path parses the
    same 32 digits the way ``UUID.__init__`` does (``int(digits, 16)``) and stores them the
    way ``UUID.__setstate__`` (and 3.14's ``UUID._from_int``) does. Any other text, valid
    (``urn:uuid:...``, braces) or not, goes to ``uuid.UUID``, which accepts or rejects it.
    """
    digits = value.replace("-", "")
    if len(digits) == 32:
        try:
            number = int(digits, 16)
        except ValueError:
            pass
        else:
            result = _new_uuid(uuid.UUID)
            _set_slot(result, "int", number)
            _set_slot(result, "is_safe", _UNKNOWN_SAFETY)
            return result
    return uuid.UUID(value)


def datetime_to_millis(value: datetime.datetime) -> int:
    """Milliseconds since the Unix epoch of a timezone-aware datetime (floored)."""
    if value.tzinfo is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone; use an aware datetime")
    return (value - EPOCH) // _MILLISECOND


def millis_to_datetime(value: int) -> datetime.datetime:
    """The UTC datetime ``value`` milliseconds after the Unix epoch."""
    return EPOCH + _MILLISECOND * value


def datetime_to_micros(value: datetime.datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime."""
    if value.tzinfo is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone; use an aware datetime")
    return (value - EPOCH) // _MICROSECOND


def micros_to_datetime(value: int) -> datetime.datetime:
    """The UTC datetime ``value`` microseconds after the Unix epoch."""
    return EPOCH + _MICROSECOND * value


def local_datetime_to_millis(value: datetime.datetime) -> int:
    """Milliseconds since 1970-01-01T00:00 of a naive (local) datetime."""
    return (value.replace(tzinfo=None) - _LOCAL_EPOCH) // _MILLISECOND


def millis_to_local_datetime(value: int) -> datetime.datetime:
    """The naive datetime ``value`` milliseconds after 1970-01-01T00:00."""
    return _LOCAL_EPOCH + _MILLISECOND * value


def local_datetime_to_micros(value: datetime.datetime) -> int:
    """Microseconds since 1970-01-01T00:00 of a naive (local) datetime."""
    return (value.replace(tzinfo=None) - _LOCAL_EPOCH) // _MICROSECOND


def micros_to_local_datetime(value: int) -> datetime.datetime:
    """The naive datetime ``value`` microseconds after 1970-01-01T00:00."""
    return _LOCAL_EPOCH + _MICROSECOND * value


def date_to_days(value: datetime.date) -> int:
    """Days since the Unix epoch."""
    return (value - _EPOCH_DATE).days


def days_to_date(value: int) -> datetime.date:
    """The date ``value`` days after the Unix epoch."""
    return _EPOCH_DATE + _DAY * value


def time_to_millis(value: datetime.time) -> int:
    """Milliseconds after midnight (floored)."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def millis_to_time(value: int) -> datetime.time:
    """The time of day ``value`` milliseconds after midnight."""
    seconds, millis = divmod(value, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime.time(hour, minute, second, millis * 1000)


def time_to_micros(value: datetime.time) -> int:
    """Microseconds after midnight."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def micros_to_time(value: int) -> datetime.time:
    """The time of day ``value`` microseconds after midnight."""
    seconds, micros = divmod(value, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime.time(hour, minute, second, micros)


def utc_now() -> datetime.datetime:
    """The current UTC time truncated to milliseconds, so it survives timestamp-millis."""
    now = datetime.datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)
