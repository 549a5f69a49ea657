from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.notify.ack_links import InvalidAckToken, ack_url, sign_ack_token, verify_ack_token

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_round_trip_binds_alert_and_receiver():
    claim = verify_ack_token(sign_ack_token(42, "zhang-wei", NOW), NOW + timedelta(minutes=5))
    assert (claim.alert_id, claim.receiver) == (42, "zhang-wei")


def test_tampered_token_is_refused():
    token = sign_ack_token(42, "zhang-wei", NOW)
    forged = sign_ack_token(43, "zhang-wei", NOW).split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(InvalidAckToken):
        verify_ack_token(forged, NOW)


def test_expired_token_is_refused():
    token = sign_ack_token(42, "zhang-wei", NOW, ttl=timedelta(minutes=10))
    with pytest.raises(InvalidAckToken, match="expired"):
        verify_ack_token(token, NOW + timedelta(minutes=10))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "....", "e30.AAAA"])
def test_garbage_is_refused(garbage):
    with pytest.raises(InvalidAckToken):
        verify_ack_token(garbage, NOW)


def test_secret_comes_from_environment(monkeypatch):
    token = sign_ack_token(1, "x", NOW)
    monkeypatch.setenv("RADAR_ACK_SECRET", "another-secret")
    with pytest.raises(InvalidAckToken):
        verify_ack_token(token, NOW)


def test_url_points_at_alert_console():
    assert ack_url("http://radar:8501/", 7, "li-na", NOW).startswith(
        "http://radar:8501/alerts?ack="
    )
