"""Logical-type conversions used by generated code: exact, and loud when a value cannot fit."""

from __future__ import annotations

import datetime
import decimal

import pytest

from evp.avro import logical

D = decimal.Decimal


@pytest.mark.parametrize("value", ["0.00", "-0.01", "127.99", "-128.00", "9999999999.99", "1E+2"])
def test_decimal_bytes_round_trip(value: str) -> None:
    """A decimal within precision and scale survives bytes and back."""
    encoded = logical.decimal_to_bytes(D(value), 12, 2)
    assert logical.bytes_to_decimal(encoded, 2) == D(value)


def test_decimal_bytes_are_minimal_twos_complement() -> None:
    """-1.00 at scale 2 is unscaled -100, one byte 0x9c."""
    assert logical.decimal_to_bytes(D("-1.00"), 4, 2) == b"\x9c"


def test_decimal_with_too_many_places_is_refused() -> None:
    """Rounding money silently is never acceptable."""
    with pytest.raises(ValueError, match="more than 2 decimal place"):
        logical.decimal_to_bytes(D("1.005"), 12, 2)


def test_decimal_over_precision_is_refused() -> None:
    """A value with more digits than the precision is refused."""
    with pytest.raises(ValueError, match="more than 4 significant"):
        logical.decimal_to_bytes(D("100.00"), 4, 2)


def test_non_finite_decimal_is_refused() -> None:
    """NaN and infinity have no Avro decimal form."""
    with pytest.raises(ValueError, match="not a finite"):
        logical.decimal_to_bytes(D("NaN"), 4, 2)


def test_decimal_fixed_is_sign_extended() -> None:
    """A decimal on fixed fills its size, sign-extended."""
    assert logical.decimal_to_fixed(D("-0.01"), 4, 2, 4) == b"\xff\xff\xff\xff"


def test_timestamp_millis_round_trip_before_epoch() -> None:
    """Timestamps before 1970 survive millis and back."""
    moment = datetime.datetime(1960, 1, 1, 0, 0, 0, 1000, tzinfo=datetime.UTC)
    assert logical.millis_to_datetime(logical.datetime_to_millis(moment)) == moment


def test_naive_datetime_is_refused() -> None:
    """An instant without a timezone is ambiguous and refused."""
    with pytest.raises(ValueError, match="no timezone"):
        logical.datetime_to_millis(datetime.datetime(2026, 1, 1))


def test_other_timezones_are_converted_to_utc() -> None:
    """An aware datetime in another zone encodes the same instant."""
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    local = datetime.datetime(2026, 1, 1, 2, 0, tzinfo=plus_two)
    assert logical.millis_to_datetime(logical.datetime_to_millis(local)) == local


def test_time_of_day_round_trips() -> None:
    """time-millis and time-micros keep hours, minutes, seconds and fractions."""
    value = datetime.time(23, 59, 58, 999000)
    assert logical.millis_to_time(logical.time_to_millis(value)) == value
    micro = datetime.time(1, 2, 3, 4)
    assert logical.micros_to_time(logical.time_to_micros(micro)) == micro


def test_utc_now_has_millisecond_precision() -> None:
    """utc_now() survives timestamp-millis unchanged."""
    now = logical.utc_now()
    assert now.microsecond % 1000 == 0
    assert logical.millis_to_datetime(logical.datetime_to_millis(now)) == now
