"""Model folders: saved as one atomic step, and model files that cannot run planted code.

Tampering: a crafted pickle (``__reduce__`` creating a marker file) is refused before it is
unpickled, whether or not the attacker updated the SHA-256 in ``model.json``: the files
carry an HMAC signature under a key the attacker lacks. Saving: a process killed at each
step of a save leaves the old or the new complete model, never a broken one; a failing
tracking URI leaves the old model byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml

from sds.data.synth import make_churn
from sds.errors import ConfigError, DataError
from sds.models.modelfile import FAULT_ENV, load_model
from sds.models.signing import KEY_ENV
from sds.serving.model import check_servable, load_served
from tests.conftest import invoke

pytestmark = pytest.mark.hostile


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained by ``sds train``; its folder is DIR, the model DIR/model."""
    folder = tmp_path_factory.mktemp("models")
    make_churn(600, seed=1).to_parquet(folder / "churn.parquet")
    _write_config(folder, seed=0)
    config, out = str(folder / "train.yaml"), str(folder / "dir")
    done = invoke(["train", config, "--model-dir", out, "--no-track"])
    assert done.exit_code == 0, done.stderr
    return folder


def _write_config(folder: Path, seed: int) -> Path:
    config = {
        "name": "tiny",
        "data": "churn.parquet",
        "target": "churned",
        "drop": ["customer_id", "retention_call"],
        "candidates": [{"name": "logistic", "tune": False}],
        "tuning": {"folds": 2},
        "seed": seed,
        "tracking_uri": f"sqlite:///{folder / 'mlruns.db'}",
    }
    path = folder / f"train-{seed}.yaml" if seed else folder / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _copy(trained: Path, to: Path) -> Path:
    shutil.copytree(trained / "dir", to, symlinks=True)
    return to


class _Run:
    """``__reduce__`` runs ``code`` when the pickle is loaded."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        return (eval, (self.code,))


def _evil(marker: Path, then_load: Path | None = None) -> bytes:
    """A joblib file that creates ``marker`` (through os.system) and then, with
    ``then_load``, returns the real model, so it would serve like it."""
    code = f"__import__('os').system('touch {marker}')"
    if then_load is not None:
        code = f"({code}, __import__('joblib').load({str(then_load)!r}))[1]"
    import io

    buffer = io.BytesIO()
    joblib.dump(_Run(code), buffer)
    return buffer.getvalue()


def _set_hash(model_dir: Path) -> None:
    meta_file = model_dir / "model.json"
    meta = json.loads(meta_file.read_text())
    meta["sha256"] = hashlib.sha256((model_dir / "model.joblib").read_bytes()).hexdigest()
    meta_file.write_text(json.dumps(meta, indent=2))


def test_the_payload_is_live(tmp_path: Path, trained: Path) -> None:
    """The control: plain joblib.load of the crafted file does run its code (so a missing
    marker below means sds refused it) and returns the real model."""
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(_evil(marker, then_load=trained / "dir" / "model" / "model.joblib"))
    model = joblib.load(evil)
    assert marker.exists() and hasattr(model, "predict_proba")


def _flip(model_dir: Path, marker: Path) -> None:
    data = bytearray((model_dir / "model.joblib").read_bytes())
    data[len(data) // 2] ^= 0x01
    (model_dir / "model.joblib").write_bytes(bytes(data))


def _evil_untouched_json(model_dir: Path, marker: Path) -> None:
    (model_dir / "model.joblib").write_bytes(_evil(marker))


def _evil_hash_updated(model_dir: Path, marker: Path) -> None:
    (model_dir / "model.joblib").write_bytes(_evil(marker))
    _set_hash(model_dir)


def _evil_then_real_model(model_dir: Path, marker: Path) -> None:
    real = model_dir.parent.parent / "real.joblib"
    shutil.copyfile(model_dir / "model.joblib", real)
    (model_dir / "model.joblib").write_bytes(_evil(marker, then_load=real))
    _set_hash(model_dir)


def _edited_json(model_dir: Path, marker: Path) -> None:
    meta = json.loads((model_dir / "model.json").read_text())
    meta["threshold"] = 0.999  # every customer predicted to stay
    (model_dir / "model.json").write_text(json.dumps(meta, indent=2))


TAMPERING: dict[str, Callable[[Path, Path], None]] = {
    "a: one byte flipped": _flip,
    "b: crafted pickle, model.json untouched": _evil_untouched_json,
    "c: crafted pickle, hash updated": _evil_hash_updated,
    "d: crafted pickle returning the real model, hash updated": _evil_then_real_model,
    "model.json edited": _edited_json,
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampered_model_is_refused_and_runs_nothing(
    case: str, trained: Path, tmp_path: Path
) -> None:
    folder = _copy(trained, tmp_path / "dir")
    marker = tmp_path / "pwned"
    TAMPERING[case](folder / "model", marker)
    done = invoke(["evaluate", "--model", str(folder)])
    assert done.exit_code == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "SHA-256" in done.stderr or "signature" in done.stderr
    for load in (check_servable, load_served):  # what sds serve and its workers call
        with pytest.raises(DataError):
            load(folder)
    assert not marker.exists()


def test_server_workers_check_with_the_inherited_key(trained: Path, tmp_path: Path) -> None:
    """A worker process (the app factory, as granian starts it) loads the genuine model with
    the key it inherits, and refuses the crafted one without running it."""
    folder = _copy(trained, tmp_path / "dir")
    marker = tmp_path / "pwned"
    script = (
        "import json, os, sys\n"
        "from sds.serving.app import app_from_environment\n"
        "for model in sys.argv[1:]:\n"
        "    os.environ['SDS_SERVE'] = json.dumps({'model': model})\n"
        "    try:\n"
        "        app_from_environment()\n"
        "        print('loaded')\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    tampered = _copy(trained, tmp_path / "tampered")
    _evil_then_real_model(tampered / "model", marker)
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), str(tampered)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.split() == ["loaded", "DataError"], done.stderr
    assert not marker.exists()


def test_foreign_or_unsigned_models_need_the_key_or_trust(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copy(trained, tmp_path / "dir")
    monkeypatch.setenv(KEY_ENV, "another-machine-another-key-42")
    done = invoke(["evaluate", "--model", str(folder)])
    assert done.exit_code == 2 and KEY_ENV in done.stderr and "--trust-model" in done.stderr
    trusted = invoke(["evaluate", "--model", str(folder), "--trust-model", "--format", "json"])
    assert trusted.exit_code == 0 and "warning:" in trusted.stderr
    monkeypatch.undo()  # the key that signed it
    assert load_model(folder).meta["name"] == "tiny"
    meta = json.loads((folder / "model" / "model.json").read_text())
    del meta["signature"]  # a model from an older sds, or from elsewhere
    (folder / "model" / "model.json").write_text(json.dumps(meta))
    done = invoke(["evaluate", "--model", str(folder / "model" / "model.joblib")])
    assert done.exit_code == 2 and "not signed" in done.stderr
    with pytest.raises(DataError, match="not signed"):
        check_servable(folder)
    assert check_servable(folder, trust=True).meta["sha256"] == meta["sha256"]


def _tiny_model(name: str) -> tuple[Any, dict[str, Any], pd.DataFrame]:
    """Anything with a predict attribute loads; the save path is what is tested."""
    model = SimpleNamespace(predict=None, name=name)
    rows = pd.DataFrame({"a": [1.0, 2.0], "version": name})
    return model, {"name": name, "task": "binary", "features": ["a"]}, rows


def _save(folder: Path, name: str) -> None:
    """What sds train does to save (sds.models.run)."""
    from sds.models.versions import new_version

    model, meta, rows = _tiny_model(name)
    with new_version(folder) as stage:
        stage.write(model, meta, rows)


def test_key_file_is_created_private_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    _save(tmp_path / "dir", "keyfile")
    key = tmp_path / "config" / "sds" / "model.key"
    assert f"created the model signing key {key}" in capsys.readouterr().err
    assert key.stat().st_mode & 0o777 == 0o600
    assert load_model(tmp_path / "dir").meta["name"] == "keyfile"
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="readable or writable by other users"):
        load_model(tmp_path / "dir")
    key.unlink()  # a machine without the key: told to set SDS_MODEL_KEY
    with pytest.raises(DataError, match=KEY_ENV):
        load_model(tmp_path / "dir")


SAVE_SCRIPT = (  # _save, without importing this module's imports
    "import sys, types\n"
    "import pandas as pd\n"
    "from sds.models.versions import new_version\n"
    "with new_version(sys.argv[1]) as stage:\n"
    "    model = types.SimpleNamespace(predict=None, name='new')\n"
    "    rows = pd.DataFrame({'a': [1.0, 2.0], 'version': 'new'})\n"
    "    stage.write(model, {'name': 'new', 'task': 'binary', 'features': ['a']}, rows)\n"
)
STEPS = {  # the step killed at: the model the folder must hold afterwards
    "staged": "old",
    "model-file": "old",
    "meta-file": "old",
    "test-file": "old",
    "before-switch": "old",
    "linked": "old",
    "switched": "new",
}


def _legacy(folder: Path) -> None:
    """A model folder as earlier versions of sds wrote it: DIR/model a real folder."""
    from sds.models.modelfile import save_model

    model, meta, rows = _tiny_model("old")
    save_model(model, folder / "model", meta)
    rows.to_parquet(folder / "model" / "test.parquet", index=False)


def _holds(folder: Path) -> str:
    saved = load_model(folder)
    rows = pd.read_parquet(saved.path / "test.parquet")
    assert set(rows["version"]) == {saved.meta["name"]}  # model and rows of one version
    return str(saved.meta["name"])


def test_a_kill_at_any_step_of_a_save_leaves_a_complete_model(tmp_path: Path) -> None:
    cases = [(step, layout) for step in STEPS for layout in ("versions", "legacy")]
    cases = [c for c in cases if c[1] == "versions" or c[0] in ("linked", "switched")]
    running = []
    for step, layout in cases:
        folder = tmp_path / f"{layout}-{step}"
        folder.mkdir()
        _legacy(folder) if layout == "legacy" else _save(folder, "old")
        process = subprocess.Popen(
            [sys.executable, "-c", SAVE_SCRIPT, str(folder)],
            env={**os.environ, FAULT_ENV: step},
            stderr=subprocess.PIPE,
        )
        running.append((step, folder, process))
    for step, folder, process in running:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 137, (step, err)
        assert _holds(folder) == STEPS[step], step
        _save(folder, "next")  # the next save cleans up what the killed one left
        assert _holds(folder) == "next"
        assert len(list((folder / "versions").iterdir())) == 3  # next, previous, .lock
        assert not list(folder.glob(".model.*"))


def test_a_legacy_model_folder_becomes_the_previous_version(tmp_path: Path) -> None:
    _legacy(tmp_path)
    _save(tmp_path, "new")
    assert (tmp_path / "model").is_symlink() and _holds(tmp_path) == "new"
    kept = [p for p in (tmp_path / "versions").iterdir() if p.name.endswith("previous")]
    assert len(kept) == 1 and _holds(kept[0]) == "old"
    from sds.models.suite import model_folders

    assert model_folders(tmp_path) == [tmp_path / "model"]  # the kept version is no model


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            out[key] = "-> " + os.readlink(path)
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_tracking_failures_leave_the_old_model_byte_identical(
    trained: Path, tmp_path: Path
) -> None:
    folder = _copy(trained, tmp_path / "dir")
    before = _snapshot(folder)
    config = _write_config(trained, seed=5)  # another split: another model
    bogus = invoke(
        ["train", str(config), "--model-dir", str(folder), "--tracking-uri", "bogus://x"]
    )
    assert bogus.exit_code == 2 and bogus.stderr.count("\n") == 1
    assert "--tracking-uri" in bogus.stderr and "sqlite" in bogus.stderr
    (tmp_path / "file").write_text("a file where the store's folder should be")
    broken = f"sqlite:///{tmp_path / 'file' / 'mlruns.db'}"  # fails only when logging
    done = invoke(["train", str(config), "--model-dir", str(folder), "--tracking-uri", broken])
    assert done.exit_code == 1, done.stderr
    assert _snapshot(folder) == before
