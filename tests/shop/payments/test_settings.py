"""The payments settings: embedded defaults, and a malformed value named."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from evp.settings import SettingsError
from shop.payments.settings import PaymentsSettings


def test_defaults_apply_when_nothing_is_set() -> None:
    """With no variable set, the documented defaults hold."""
    settings = PaymentsSettings.from_env({})
    assert settings.decline_above == Decimal("5000.00")
    assert settings.slow_approval == datetime.timedelta(hours=1)
    assert settings.poll_interval_s == 1.0


def test_each_variable_is_read() -> None:
    """The limit, the slow delay and the poll interval come from their variables."""
    settings = PaymentsSettings.from_env(
        {
            "PAYMENTS_DECLINE_ABOVE": "100.50",
            "PAYMENTS_SLOW_APPROVAL_S": "0.5",
            "PAYMENTS_POLL_INTERVAL_S": "0.05",
        }
    )
    assert settings == PaymentsSettings(Decimal("100.50"), 0.5, 0.05)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PAYMENTS_DECLINE_ABOVE", "lots"),
        ("PAYMENTS_DECLINE_ABOVE", "-1"),
        ("PAYMENTS_DECLINE_ABOVE", "NaN"),
        ("PAYMENTS_SLOW_APPROVAL_S", "soon"),
        ("PAYMENTS_POLL_INTERVAL_S", "0"),
    ],
)
def test_a_malformed_value_fails_naming_its_variable(key: str, value: str) -> None:
    """A bad value stops start-up with an error naming the variable."""
    with pytest.raises(SettingsError) as raised:
        PaymentsSettings.from_env({key: value})
    assert raised.value.key == key
