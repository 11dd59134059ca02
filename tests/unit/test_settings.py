"""Settings: the environment variable contract and one-line start-up errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.app.settings import Settings, describe_settings_error

BASE = {
    "SLACK_BOT_TOKEN": "xoxb-secret-token-value",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "PINECONE_API_KEY": "pc-secret-key-value",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "PINECONE_API_KEY",
        "PINECONE_CONTROLLER_HOST",
        "DATABASE_URL",
        "PORT",
        "RESTORE_BOT_ALLOWED_CHANNELS",
        "RESTORE_BOT_INCIDENT_CHANNEL",
        "RESTORE_BOT_POLL_INTERVAL",
        "RESTORE_BOT_RESTORE_TIMEOUT",
        "RESTORE_BOT_DATABASE_POOL_SIZE",
    ):
        monkeypatch.delenv(name, raising=False)


def errors_for(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    return describe_settings_error(raised.value)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.pinecone_controller_host == "https://api.pinecone.io"
    assert settings.database_url == "sqlite:///restore-bot.sqlite3"
    assert settings.port == 3000
    assert settings.allowed_channels == ()
    assert settings.incident_channel is None
    assert settings.poll_interval == 10.0
    assert settings.restore_timeout == 21600.0
    assert not settings.socket_mode


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        **BASE,
        "SLACK_APP_TOKEN": "xapp-1-abc",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "PINECONE_CONTROLLER_HOST": "http://127.0.0.1:8",
        "DATABASE_URL": "sqlite:////var/lib/bot/jobs.db",
        "PORT": "8080",
        "RESTORE_BOT_ALLOWED_CHANNELS": "C0RESTORE1, C0RESTORE2",
        "RESTORE_BOT_INCIDENT_CHANNEL": "C0INCIDENT",
        "RESTORE_BOT_POLL_INTERVAL": "2.5",
        "RESTORE_BOT_RESTORE_TIMEOUT": "90.5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.socket_mode
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert str(settings.database_path) == "/var/lib/bot/jobs.db"
    assert settings.port == 8080
    assert settings.allowed_channels == ("C0RESTORE1", "C0RESTORE2")
    assert settings.incident_channel == "C0INCIDENT"
    assert (settings.poll_interval, settings.restore_timeout) == (2.5, 90.5)


def test_missing_required_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch)
    assert "SLACK_BOT_TOKEN: is required but not set" in lines
    assert "PINECONE_API_KEY: is required but not set" in lines


def test_signing_secret_required_in_http_mode_only(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch, SLACK_BOT_TOKEN="xoxb-1", PINECONE_API_KEY="k")
    assert any("SLACK_SIGNING_SECRET" in line for line in lines)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    assert Settings().socket_mode


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind-secret", "xapp-"),
        ("PORT", "eighty", "PORT"),
        ("DATABASE_URL", "mysql://db", "sqlite:///"),
        ("DATABASE_URL", "postgresql://bot:pg-secret-password@db:port/jobs", "the port is not a number"),
        ("RESTORE_BOT_DATABASE_POOL_SIZE", "0", "greater than or equal to 1"),
        ("RESTORE_BOT_ALLOWED_CHANNELS", "#general", "channel IDs"),
        ("RESTORE_BOT_POLL_INTERVAL", "0", "greater than 0"),
        ("RESTORE_BOT_RESTORE_TIMEOUT", "soon", "RESTORE_BOT_RESTORE_TIMEOUT"),
        ("PINECONE_CONTROLLER_HOST", "api.pinecone.io", "http"),
    ],
)
def test_malformed_values_name_the_variable_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    lines = errors_for(monkeypatch, **{**BASE, name: value})
    assert len(lines) == 1
    assert lines[0].startswith(name) and fragment in lines[0]
    for secret in (*BASE.values(), "xoxp-user-token-secret", "xoxb-wrong-kind-secret", "pg-secret-password"):
        assert secret not in lines[0]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_selects_postgresql_and_its_password_is_a_secret(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    for name, value in {
        **BASE,
        "DATABASE_URL": f"{scheme}://restore_bot:pg%2Fhunter2@db.internal:5432/restore_bot",
        "RESTORE_BOT_DATABASE_POOL_SIZE": "4",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.database_kind == "postgresql"
    assert settings.database_pool_size == 4
    # Masked wherever text leaves the bot, as written and as decoded.
    assert {"pg%2Fhunter2", "pg/hunter2"} <= set(settings.secrets())
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)


def test_sqlite_stays_the_default_store(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.database_kind == "sqlite" and settings.database_pool_size == 10
    assert sorted(settings.secrets()) == sorted(BASE.values())
