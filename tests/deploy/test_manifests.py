"""The deployment files: no Docker engine or cluster runs here, so they are parsed, checked
against the Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors),
and checked against each other and against the server (ports, probe paths, non-root)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sds.serving.app import PATHS

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30.0"


def _validate(doc: dict[str, Any]) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _dockerfile() -> tuple[list[str], str]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")
    ]
    return lines, text


def _render(template: str, values: dict[str, Any], release: str) -> str:
    """The subset of Helm templating the chart uses: ``{{ .Values.a.b }}`` and
    ``{{ .Release.Name }}``; anything else is an error."""

    def value(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr == ".Release.Name":
            return release
        if not expr.startswith(".Values."):
            raise AssertionError(f"template uses {expr!r}, which this test cannot render")
        out: Any = values
        for part in expr.removeprefix(".Values.").split("."):
            out = out[part]
        return str(out)

    return re.sub(r"\{\{(.*?)\}\}", value, template)


def _k8s_docs() -> list[dict[str, Any]]:
    return [
        d
        for f in sorted((ROOT / "k8s").glob("*.yaml"))
        for d in yaml.safe_load_all(f.read_text())
        if d
    ]


def _chart_docs() -> list[dict[str, Any]]:
    values = yaml.safe_load((ROOT / "charts" / "values.yaml").read_text())
    return [
        yaml.safe_load(_render(f.read_text(), values, "service"))
        for f in sorted((ROOT / "charts" / "templates").glob("*.yaml"))
    ]


def test_dockerfile_is_multistage_non_root_and_checks_health() -> None:
    lines, _ = _dockerfile()
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2 and " AS " in froms[0]
    user = [line.split()[1] for line in lines if line.startswith("USER ")][-1]
    assert user not in ("root", "0")
    expose = [line.split()[1] for line in lines if line.startswith("EXPOSE ")]
    health = next(line for line in lines if line.startswith("HEALTHCHECK "))
    assert f"127.0.0.1:{expose[0]}{PATHS['health']}" in health
    cmd = next(line for line in lines if line.startswith("CMD "))
    args = yaml.safe_load(cmd.removeprefix("CMD "))
    assert args[:2] == ["sds", "serve"] and args[args.index("--port") + 1] == expose[0]


@pytest.mark.parametrize("source", ["k8s", "chart"])
def test_manifests_validate_and_agree_with_the_server(source: str) -> None:
    docs = _k8s_docs() if source == "k8s" else _chart_docs()
    for doc in docs:
        _validate(doc)
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler"}
    deployment, service, hpa = (
        kinds["Deployment"],
        kinds["Service"],
        kinds["HorizontalPodAutoscaler"],
    )
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    port = container["ports"][0]
    args = [str(a) for a in container["args"]]
    assert (
        args[:2] == ["sds", "serve"]
        and int(args[args.index("--port") + 1]) == port["containerPort"]
    )
    assert container["readinessProbe"]["httpGet"] == {"path": PATHS["ready"], "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": PATHS["health"], "port": port["name"]}
    assert {"requests", "limits"} <= set(container["resources"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    _, dockerfile = _dockerfile()
    assert str(pod["spec"]["securityContext"]["runAsUser"]) in dockerfile
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    model_arg = args[2]
    assert model_arg.startswith(mounts["model"] + "/")


def test_a_broken_manifest_is_caught() -> None:
    """The validator is not a formality: a misspelled field fails strict validation."""
    import kubernetes_validate

    doc = _k8s_docs()[0]
    doc["spec"]["replica"] = doc["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(doc)


def test_shell_form_is_not_used_for_the_server() -> None:
    lines, _ = _dockerfile()
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert cmd.removeprefix("CMD ").startswith("[")  # exec form: signals reach the server


def test_the_image_installs_what_a_trained_model_needs() -> None:
    """The image installed only ``.[serve]``, so a model whose winner is LightGBM or XGBoost
    (the ``boost`` candidates) could not be unpickled in it; the extras are a build argument
    whose default holds both, and each names an extra pyproject.toml defines."""
    import tomllib

    lines, _ = _dockerfile()
    extras_arg = next(line for line in lines if line.startswith("ARG EXTRAS="))
    extras = set(extras_arg.removeprefix("ARG EXTRAS=").strip("\"'").split(","))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    defined = project["optional-dependencies"]
    assert {"serve", "boost"} <= extras <= set(defined)
    boosted = " ".join(defined["boost"])
    assert "lightgbm" in boosted and "xgboost" in boosted
    wheel = next(line for line in lines if line.startswith("RUN pip wheel"))
    assert '".[${EXTRAS}]"' in wheel


def test_the_readme_names_the_claim_the_deployment_needs() -> None:
    deployment = next(d for d in _k8s_docs() if d["kind"] == "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    claim = next(v["persistentVolumeClaim"]["claimName"] for v in volumes if v["name"] == "model")
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"PersistentVolumeClaim named `{claim}`" in readme
    assert "ARG EXTRAS" in readme and "`serve,boost`" in readme
