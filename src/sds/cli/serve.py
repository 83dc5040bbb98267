"""``sds serve MODEL``: the REST model server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.params import check


def command(
    model: Annotated[Path, typer.Argument(help="Model folder written by sds train.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (one per core).")] = 2,
    canary: Annotated[
        Path | None, typer.Option(help="Challenger model folder for canary routing.")
    ] = None,
    canary_weight: Annotated[
        float, typer.Option(help="Share of traffic for the challenger.")
    ] = 0.05,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key (X-API-Key header)."),
    ] = None,
    range_margin: Annotated[
        float,
        typer.Option(
            help="Numbers may lie this share of the training span outside the "
            "training range; negative turns the range check off."
        ),
    ] = 0.1,
    log_dir: Annotated[
        Path | None,
        typer.Option(help="Write a request log here (Parquet) for sds monitor / canary report."),
    ] = None,
    log_sample: Annotated[float, typer.Option(help="Share of requests logged.")] = 1.0,
    body_timeout: Annotated[
        float, typer.Option(help="Seconds a request body may take to arrive (else 408).")
    ] = 10.0,
    public_metrics: Annotated[
        bool,
        typer.Option(
            "--public-metrics", help="Serve /metrics without the API key (for a scraper)."
        ),
    ] = False,
    allow_schema_change: Annotated[
        bool,
        typer.Option(
            "--allow-schema-change",
            help="Serve a --canary whose input schema differs from the model's.",
        ),
    ] = False,
    ignore_unknown_fields: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown-fields",
            help="Accept and leave out fields the model does not use (whole records, ids); "
            "by default they are refused (422).",
        ),
    ] = False,
    trust_model: Annotated[
        bool,
        typer.Option(
            "--trust-model",
            help="Load models not signed with this machine's key (SDS_MODEL_KEY); "
            "a model file can run any code when loaded.",
        ),
    ] = False,
) -> None:
    """Serve a model over HTTP: /predict, /health, /ready, /metrics, /model, /docs."""
    from sds.serving.server import serve

    check("workers", workers)
    check("port", port)
    serve(
        model,
        host=host,
        port=port,
        workers=workers,
        canary=canary,
        canary_weight=canary_weight,
        api_key_env=api_key_env,
        range_margin=None if range_margin < 0 else range_margin,
        log_dir=log_dir,
        log_sample=log_sample,
        trust_model=trust_model,
        body_timeout=body_timeout,
        public_metrics=public_metrics,
        allow_schema_change=allow_schema_change,
        ignore_unknown_fields=ignore_unknown_fields,
    )
