"""The notebooks in examples/notebooks/ run top to bottom in a real Jupyter kernel.

Each is executed by nbclient in a ``python3`` kernel that is this interpreter (the venv's
ipykernel, whatever kernels the user has installed elsewhere), with a timeout per cell;
any cell that raises fails the test. The cells the notebooks are there for must show what
they promise: a result rendered through its ``_repr_html_``, and a plot.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"
CELL_TIMEOUT = 240  # seconds; each notebook takes about 15 s here
# The one line allowed on a cell's stderr: optuna imports tqdm.auto, which notes once that
# ipywidgets is not installed (Jupyter installs it; the test environment does not).
TQDM_NOTE = "IProgress not found"


@pytest.fixture
def kernel_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernel spec for this interpreter, first on JUPYTER_PATH, so a
    ``python3`` kernel in the user's own Jupyter folders cannot take its place."""
    folder = tmp_path / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sds tests)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


def test_the_kernel_is_this_interpreter(kernel_path: Path) -> None:
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable


def test_the_committed_notebooks_carry_no_outputs() -> None:
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.stem for p in notebooks] == ["churn_model", "experiment_readout"]
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def _execute(name: str, folder: Path) -> dict[str, list[Any]]:
    """Run the notebook in ``folder`` (its working directory); the outputs by cell tag."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    tagged: dict[str, list[Any]] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors
        stderr = [o["text"] for o in cell.outputs if o.get("name") == "stderr"]
        assert all(TQDM_NOTE in text for text in stderr), (cell.source, stderr)
        for tag in cell.metadata.get("tags", []):
            tagged[tag] = cell.outputs
    return tagged


def _mime(outputs: list[Any], kind: str) -> list[str]:
    return [o["data"][kind] for o in outputs if kind in o.get("data", {})]


def test_experiment_readout_runs(kernel_path: Path) -> None:
    tagged = _execute("experiment_readout", kernel_path)
    html = _mime(tagged["readout"], "text/html")
    assert len(html) == 1 and 'class="sds-result"' in html[0]
    assert "conversion" in html[0] and "revenue_per_user" in html[0]
    assert _mime(tagged["effects"], "text/html")  # the effects DataFrame
    assert _mime(tagged["plot"], "image/png")


def test_churn_model_runs_from_features_to_served_predictions(kernel_path: Path) -> None:
    tagged = _execute("churn_model", kernel_path)
    for tag in ("features", "train", "evaluate"):
        html = _mime(tagged[tag], "text/html")
        assert len(html) == 1 and 'class="sds-result"' in html[0], tag
    served = "".join(o.get("text", "") for o in tagged["serve"])
    assert "largest online - offline difference" in served
    assert _mime(tagged["plot"], "image/png")
