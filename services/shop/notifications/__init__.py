"""The shop's notifications service: email for registrations and finished orders.

``app`` declares it; ``handlers`` record what each event calls for, ``ledger`` keeps the
notifications table, ``sender`` sends over SMTP (``smtp``) with retries, ``sink`` is the
embedded SMTP server used when none is configured, ``routes`` its HTTP API.
"""
