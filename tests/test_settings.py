"""An operator configures the axis from the environment: each setting declared once, read, checked,
and refused by its variable's name when it is wrong."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from axis.config import Settings, markdown_table, variable
from axis.errors import AxisError


def refused(env: dict[str, str]) -> str:
    with pytest.raises(AxisError) as caught:
        Settings.from_env(env)
    assert caught.value.code == "config.invalid"
    return caught.value.message


def test_every_setting_has_its_variable_its_line_of_documentation_and_a_default() -> None:
    for each in dataclasses.fields(Settings):
        assert each.metadata.get("doc"), each.name
        assert f"`{variable(each)}`" in markdown_table()
    assert Settings.from_env({}) == Settings.from_env({"AXIS_UNKNOWN_THING": "ignored"})


def test_values_are_read_by_their_type() -> None:
    settings = Settings.from_env(
        {
            "AXIS_HTTP_PORT": "8443",
            "AXIS_DB_ACQUIRE_TIMEOUT": "2.5",
            "AXIS_VDXP_ALLOW_PLAIN_HTTP": "yes",
            "AXIS_LOG_LEVEL": "DEBUG",
            "AXIS_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
            "AXIS_KEYS_DIR": "/etc/axis/keys",
            "AXIS_TLS_CERT": "",  # empty: not set
        }
    )
    assert (settings.http_port, settings.db_acquire_timeout, settings.vdxp_allow_plain_http) == (8443, 2.5, True)
    assert (settings.log_level, settings.trusted_proxies) == ("debug", ("10.0.0.0/8", "192.0.2.1"))
    assert settings.trust_anchors == (Path("/etc/axis/keys/ca.pem"),)  # beside the keys unless named
    assert settings.tls_cert is None


def test_a_wrong_value_is_refused_by_its_variables_name() -> None:
    assert refused({"AXIS_HTTP_PORT": "eighty"}) == "AXIS_HTTP_PORT='eighty' is not an integer."
    assert refused({"AXIS_HTTP_PORT": "70000"}) == "AXIS_HTTP_PORT is not a port number."
    assert refused({"AXIS_DB_POOL_SIZE": "1"}) == "AXIS_DB_POOL_SIZE must be at least 2."
    assert refused({"AXIS_LOG_LEVEL": "loud"}) == "AXIS_LOG_LEVEL is not a log level."
    assert "not an address or a network" in refused({"AXIS_TRUSTED_PROXIES": "proxy.example"})
    assert "go together" in refused({"AXIS_TLS_CERT": "a.pem"})


def test_the_logged_settings_hide_passwords() -> None:
    settings = Settings.from_env({"AXIS_AMQP_URL": "amqp://axis:s3cret@mq:5672/prod"})
    assert settings.redacted()["amqp_url"] == "amqp://axis:***@mq:5672/prod"
    assert settings.amqp_vhost == "prod"
