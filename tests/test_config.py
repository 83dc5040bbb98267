import json
from pathlib import Path

import pytest

from sds.config import StrictModel, get_settings, load_config, settings
from sds.errors import ConfigError


class Plan(StrictModel):
    alpha: float = 0.05
    power: float = 0.8
    name: str


def test_settings_override_is_scoped() -> None:
    assert get_settings().alpha == 0.05
    with settings(alpha=0.01) as s:
        assert s.alpha == 0.01
        assert get_settings().alpha == 0.01
    assert get_settings().alpha == 0.05


def test_yaml_and_json_configs(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: test\nalpha: 0.1\n")
    (tmp_path / "a.json").write_text(json.dumps({"name": "test", "power": 0.9}))
    assert load_config(tmp_path / "a.yaml", Plan).alpha == 0.1
    assert load_config(tmp_path / "a.json", Plan).power == 0.9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nalpah: 0.1\n", r"unknown key 'alpah'.*Did you mean 'alpha'\?"),
        ("name: x\nalpha: high\n", r"alpha == 'high', input should be a valid number"),
        ("alpha: 0.1\n", r"bad.yaml: name is required"),
        ("", "config file is empty"),
        ("- a\n- b\n", "config must be a mapping"),
        ("name: [unclosed\n", r"bad.yaml:2:1: cannot parse YAML: expected"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, Plan)
    assert str(path) in str(info.value)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", Plan)
