"""Spark's failure modes give a message with the fix: no pyspark, no Java or an old one, a
path Spark cannot read; and Spark Connect (``SPARK_REMOTE``) gives the same answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sds.data.engine import Engine
from sds.data.io import open_table
from sds.errors import ConfigError, DataError
from tests.conftest import invoke
from tests.spark.conftest import assert_same


def test_missing_pyspark_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ConfigError, match=r"needs pyspark.*pip install 'sds-toolkit\[spark\]'"):
        Engine("spark", spark_master="local[1]")


def test_missing_java_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        Engine("spark", spark_master="local[1]")
    text = str(caught.value)
    assert f"JAVA_HOME={tmp_path} has no bin/java" in text
    assert "openjdk-17" in text and "SPARK_REMOTE" in text

    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="no java on PATH"):
        Engine("spark", spark_master="local[1]")


def test_unreachable_spark_connect_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SPARK_REMOTE", f"sc://127.0.0.1:{port}")
    with pytest.raises(
        ConfigError, match=f"cannot reach the Spark Connect server at 127.0.0.1:{port}"
    ):
        Engine("spark", spark_master="local[1]")


def test_old_java_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.20\" 2023-07-18' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match=r"Java 17 or newer; found Java 11 at"):
        Engine("spark", spark_master="local[1]")


def test_cli_exits_2_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spark_engine: Any, data_dir: Path
) -> None:
    source = str(data_dir / "churn.parquet")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    no_java = invoke(["--engine", "spark", "--spark-master", "local[1]", "profile", source])
    assert no_java.exit_code == 2
    assert "needs Java" in no_java.stderr and "Traceback" not in no_java.stderr
    monkeypatch.delenv("JAVA_HOME")

    bad = invoke(["--engine", "sparky", "profile", source])
    assert bad.exit_code == 2 and "unknown engine 'sparky'" in bad.stderr
    assert "Did you mean 'spark'?" in bad.stderr

    remote = "gs://no-such-bucket/events/"
    unreadable = invoke(["--engine", "spark", "--spark-master", "local[2]", "profile", remote])
    assert unreadable.exit_code == 2
    assert remote in unreadable.stderr and "connector" in unreadable.stderr


def test_unreadable_paths_are_named(spark_engine: Any, tmp_path: Path) -> None:
    missing = "file:///no/such/folder/events.parquet"
    with pytest.raises(DataError, match="Spark cannot read the path file:/no/such/folder"):
        open_table(missing, engine=spark_engine)
    with pytest.raises(DataError, match=r"s3a://bucket/x\.parquet.*hadoop-aws"):
        open_table("s3a://bucket/x.parquet", engine=spark_engine)
    db = tmp_path / "events.duckdb"
    db.write_bytes(b"not really a database")
    with pytest.raises(DataError, match="only be read by the duckdb engine"):
        open_table(str(db), engine=spark_engine)


@pytest.mark.slow
def test_spark_connect_gives_the_same_profile(data_dir: Path, spark_engine: Any) -> None:
    """``SPARK_REMOTE=local[2]`` starts a real Spark Connect server and talks gRPC to it."""
    source = str(data_dir / "churn.parquet")
    args = [sys.executable, "-m", "sds.cli.main", "--engine", "spark", "--no-progress"]
    env = {**os.environ, "SPARK_REMOTE": "local[2]"}
    connect = subprocess.run(
        [*args, "profile", source, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert connect.returncode == 0, connect.stderr[-2000:]
    duck = invoke(["profile", source, "--format", "json"])
    assert duck.exit_code == 0
    assert_same(json.loads(duck.stdout), json.loads(connect.stdout))


def test_session_sizes() -> None:
    from sds.data.spark import jvm_size, local_partitions

    assert [jvm_size(m) for m in ("8GB", "512 MiB", "2g", "1TB")] == ["8g", "512m", "2g", "1t"]
    with pytest.raises(ConfigError, match="'lots' is not a size"):
        jvm_size("lots")
    assert local_partitions("local[2]") == "4"
    assert local_partitions("local[3, 2]") == "6"
    assert local_partitions("local[*]") == str(2 * (os.cpu_count() or 2))


def test_local_driver_gets_the_throughput_collector(
    spark_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sds.data.spark import JVM_ENV_OPTIONS, throughput_gc_option

    jvm = spark_engine.con._session.sparkContext._jvm
    beans = jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    assert {beans.get(i).getName() for i in range(beans.size())} == {"PS Scavenge", "PS MarkSweep"}
    for name in JVM_ENV_OPTIONS:
        monkeypatch.delenv(name, raising=False)
    assert throughput_gc_option("local[2]") == ["-XX:+UseParallelGC"]
    assert throughput_gc_option("spark://host:7077") == throughput_gc_option("yarn") == []
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-XX:+UseZGC")  # two collectors: no JVM
    assert throughput_gc_option("local[2]") == []


def test_a_session_passed_from_python_is_used(spark_engine: Any, data_dir: Path) -> None:
    from sds.features.profile import profile

    session = spark_engine.con._session
    engine = Engine.spark(session)
    assert engine.con._session is session  # no second session, e.g. Databricks' ``spark``
    from sds.features.profile_result import ProfileOptions

    source = str(data_dir / "churn.parquet")
    few = ProfileOptions(columns=("age", "contract", "monthly_charges"))
    assert_same(profile(source, few).to_dict(), profile(source, few, engine=engine).to_dict())


def test_uris_go_to_spark_untouched(spark_engine: Any, data_dir: Path, tmp_path: Path) -> None:
    """A file:// URI, a glob inside one and a folder of part files are read by Spark itself
    (the same way it reads hdfs:// or s3a://); DuckDB reads the file:// path locally."""
    import pandas as pd

    folder = tmp_path / "events"
    folder.mkdir()
    frame = pd.read_parquet(data_dir / "churn.parquet")
    frame.iloc[:1_000].to_parquet(folder / "part-0.parquet")
    frame.iloc[1_000:].to_parquet(folder / "part-1.parquet")
    for uri in (f"file://{folder}", f"file://{folder}/part-*.parquet"):
        assert open_table(uri, engine=spark_engine).count() == 3_000, uri
    single = f"file://{data_dir / 'churn.csv'}"
    assert open_table(single, engine=spark_engine).count() == 3_000
    assert open_table(single, engine=Engine()).count() == 3_000


def test_a_value_that_does_not_parse_exits_2(spark_engine: Any, tmp_path: Path) -> None:
    """Types come from the first rows (DuckDB's sniffer); a later value that does not fit is
    an error naming the value, on both engines, never a silent null."""
    rows = ["id,x", *(f"{i},{i}" for i in range(30_000)), "30001,abc"]
    path = tmp_path / "late_text.csv"
    path.write_text("\n".join(rows) + "\n")
    spark = invoke(["--engine", "spark", "--spark-master", "local[2]", "profile", str(path)])
    assert spark.exit_code == 2, spark.stderr
    assert (
        'does not parse as its column\'s type (NumberFormatException: For input string: "abc")'
        in spark.stderr
    )
    assert "record [30001,null]" in spark.stderr
    duck = invoke(["profile", str(path)])
    assert duck.exit_code == 2 and "Line: 30002" in duck.stderr
