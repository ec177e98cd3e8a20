from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stock_manager.config import ConfigError, Settings, load_settings, mask_url, masked_settings

SECRET = "super-secret-value-1234567890"


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'stock_manager.db'}"
    socket = tmp_path / "redis" / "redis.sock"  # the embedded Valkey, started on first use
    assert s.effective_broker_url == f"redis+socket://{socket}"
    assert s.effective_redis_url == f"unix://{socket}"
    assert s.broker_is_embedded
    assert s.effective_lock_backend == "redis"
    assert s.kis_env == "sim" and s.effective_kis_rest_url.startswith("http://127.0.0.1")


def test_redis_url_switches_broker_and_locks() -> None:
    s = load_settings(redis_url="redis://r:6379/0")
    assert s.effective_broker_url == "redis://r:6379/0"
    assert s.effective_lock_backend == "redis"
    assert s.embedded_redis is None and not s.broker_is_embedded


def test_the_broker_can_stay_embedded_beside_a_redis_url(tmp_path: Path) -> None:
    socket = f"redis+socket://{tmp_path / 'redis' / 'redis.sock'}"
    s = load_settings(data_dir=tmp_path, redis_url="redis://r:6379/0", celery_broker_url=socket)
    assert s.broker_is_embedded  # so the transport starts it before connecting
    assert s.effective_broker_url == socket


def test_bad_value_names_the_setting_and_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIS_ACCOUNT_NO", "12-3")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "KIS_ACCOUNT_NO" in str(caught.value)
    assert "8 digits" in str(caught.value)


def test_every_bad_setting_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIS_ENV", "production")
    monkeypatch.setenv("MAX_POSITIONS", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "KIS_ENV" in message and "MAX_POSITIONS" in message


def test_secrets_never_appear_in_errors_or_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIS_APP_SECRET", SECRET)
    monkeypatch.setenv("KIS_APP_KEY", SECRET)
    monkeypatch.setenv("KIS_ENV", "paper")
    monkeypatch.setenv("UNIVERSE", "005930")
    s = load_settings()
    assert SECRET not in repr(s) and SECRET not in str(masked_settings(s))
    monkeypatch.setenv("KIS_ACCOUNT_NO", "bad")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert SECRET not in str(caught.value)


def test_live_and_paper_need_credentials() -> None:
    with pytest.raises(ConfigError, match="KIS_APP_KEY and KIS_APP_SECRET"):
        load_settings(kis_env="live")


def test_time_limits_must_nest_below_the_lease_and_visibility_timeout() -> None:
    with pytest.raises(ConfigError, match=r"TASK_TIME_LIMIT .* must be below WORKER_LOCK_TTL"):
        load_settings(task_time_limit=120, worker_lock_ttl=90)
    with pytest.raises(ConfigError, match=r"WORKER_LOCK_TTL .* BROKER_VISIBILITY_TIMEOUT"):
        load_settings(worker_lock_ttl=400)


def test_cutoff_leads_must_be_ordered() -> None:
    with pytest.raises(ConfigError, match="ENTRY_CUTOFF_LEAD"):
        load_settings(entry_cutoff_lead=timedelta(minutes=1))


def test_lists_come_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIVERSE", "005930, 000660")
    assert load_settings().universe == ["005930", "000660"]


def test_dotenv_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MAX_POSITIONS=7\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().max_positions == 7


def test_masked_settings_hide_account_and_url_passwords() -> None:
    shown = masked_settings(load_settings(database_url="postgresql://u:pw@h/db"))
    assert shown["kis_account_no"] == "12******-01"
    assert "pw" not in shown["database_url"]
    assert mask_url("redis://:pw@h:6379/0") == "redis://:****@h:6379/0"


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"{name.upper()}=" not in example]
    assert missing == []
