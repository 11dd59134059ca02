"""Settings read from the environment.

The variable names are a contract with deployments: keep them exactly as they are.
Start-up problems are reported by `describe_settings_error` as one line per variable,
never echoing the value (it may be a secret).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.ids import is_channel_id
from bot.core.urls import url_password
from storage.postgres.postgres_store import DEFAULT_POOL_SIZE
from storage.stores import StoreKind, sqlite_path, store_kind


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    pinecone_api_key: SecretStr = Field(validation_alias="PINECONE_API_KEY")
    pinecone_controller_host: str = Field(
        default="https://api.pinecone.io", validation_alias="PINECONE_CONTROLLER_HOST"
    )
    # Not in the repr: a PostgreSQL URL may hold a password.
    database_url: str = Field(default="sqlite:///restore-bot.sqlite3", validation_alias="DATABASE_URL", repr=False)
    database_pool_size: int = Field(
        default=DEFAULT_POOL_SIZE, ge=1, le=100, validation_alias="RESTORE_BOT_DATABASE_POOL_SIZE"
    )
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    allowed_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("RESTORE_BOT_ALLOWED_CHANNELS")
    )
    incident_channel: str | None = Field(default=None, validation_alias="RESTORE_BOT_INCIDENT_CHANNEL")
    poll_interval: float = Field(default=10.0, gt=0, validation_alias="RESTORE_BOT_POLL_INTERVAL")
    restore_timeout: float = Field(default=21600.0, gt=0, validation_alias="RESTORE_BOT_RESTORE_TIMEOUT")
    verify_timeout: float = Field(default=300.0, ge=0, validation_alias="RESTORE_BOT_VERIFY_TIMEOUT")
    pinecone_timeout: float = Field(default=15.0, gt=0, validation_alias="RESTORE_BOT_PINECONE_TIMEOUT")
    policy_path: Path | None = Field(default=None, validation_alias="RESTORE_BOT_POLICY")
    data_plane_url: str = Field(default="https://{host}", validation_alias="RESTORE_BOT_DATA_PLANE_URL")
    log_format: Literal["json", "console"] | None = Field(default=None, validation_alias="RESTORE_BOT_LOG_FORMAT")

    @field_validator("log_format", mode="before")
    @classmethod
    def _empty_format_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("data_plane_url")
    @classmethod
    def _host_template(cls, value: str) -> str:
        if "{host}" not in value or not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL template containing {host}, like https://{host}")
        return value

    @field_validator("policy_path", mode="before")
    @classmethod
    def _empty_policy_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("expected a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith("xapp-"):
            raise ValueError("expected an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _empty_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("pinecone_api_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("expected a non-empty Pinecone API key")
        return value

    @field_validator("slack_api_url", "pinecone_controller_host")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with '/'.
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _store_url(cls, value: str) -> str:
        store_kind(value)  # the ValueError says what is expected, never the value
        return value

    @field_validator("allowed_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_channels")
    @classmethod
    def _channel_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for channel in value:
            if not is_channel_id(channel):
                raise ValueError(f"expected channel IDs like C0123ABCD, got {channel!r}")
        return value

    @field_validator("incident_channel")
    @classmethod
    def _incident_channel_id(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not is_channel_id(value):
            raise ValueError(f"expected a channel ID like C0123ABCD, got {value!r}")
        return value

    @model_validator(mode="after")
    def _signing_secret_in_http_mode(self) -> Settings:
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode (when SLACK_APP_TOKEN is unset)")
        return self

    def secrets(self) -> list[str]:
        """Every configured secret value, for masking wherever text leaves the bot."""
        configured = (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.pinecone_api_key)
        return [secret.get_secret_value() for secret in configured if secret is not None] + url_password(
            self.database_url
        )

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def database_path(self) -> Path:
        """The SQLite file (sqlite:///rel/path -> "rel/path"; sqlite:////abs/path -> "/abs/path")."""
        return sqlite_path(self.database_url)

    @property
    def database_kind(self) -> StoreKind:
        return store_kind(self.database_url)


_FIELD_TO_ENV = {
    name: str(field.validation_alias.choices[0])
    if isinstance(field.validation_alias, AliasChoices)
    else str(field.validation_alias)
    for name, field in Settings.model_fields.items()
}


def describe_settings_error(error: ValidationError) -> list[str]:
    """One line per bad variable, naming it and what is expected, never its value."""
    lines: list[str] = []
    for problem in error.errors(include_input=False, include_url=False):
        location = problem["loc"][0] if problem["loc"] else ""
        variable = _FIELD_TO_ENV.get(str(location), str(location))
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "is required but not set"
        if variable:
            lines.append(f"{variable}: {message}")
        else:
            lines.append(message)
    return lines
