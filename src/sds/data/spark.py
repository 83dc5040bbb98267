"""Apache Spark as an engine: finding a session, checking what it needs, naming its errors.

Three ways in, in this order of precedence:

1. a ``SparkSession`` passed from Python (``Engine.spark(session)``), e.g. on Databricks;
2. Spark Connect when ``SPARK_REMOTE`` is set (``sc://host:15002``, or ``local[2]`` for a
   Connect server on this machine);
3. a classic session on ``--spark-master``, e.g. ``spark://host:7077`` or ``yarn``; with no
   master, the process's active session if there is one (``spark-submit``, notebooks), else
   a new ``local[*]``.

A classic session runs its driver in a local JVM, so it needs Java 17 or newer; Spark Connect
to a remote server needs only the Python client. Both are checked before Spark is started, so
a missing piece gives a message with the fix rather than a gateway traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable
from typing import Any

from sds.data.spark_footer import Footer, local_footer
from sds.data.uri import URI
from sds.errors import AnalysisError, ConfigError, DataError, InputError
from sds.report.tempfiles import is_part_listing

MIN_JAVA = 17
INSTALL_HINT = (
    "Install it with: pip install 'sds-toolkit[spark]' (pyspark with the Ibis Spark backend)."
)
REMOTE_ENV = "SPARK_REMOTE"

# Spark's own settings for a session sds starts: UTC times as in DuckDB, no web UI.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",  # sds draws its own progress
    # whole-stage code generation for plans of up to 2,000 fields (Spark's default stops at
    # 100): a profile's aggregate of 18 columns has about 110 and ran interpreted, 3 times the
    # CPU; a plan whose generated code is too large still falls back (hugeMethodLimit)
    "spark.sql.codegen.maxFields": "2000",
}


def require_pyspark() -> None:
    """Raise a ConfigError with the install command if pyspark or Ibis' backend is missing."""
    try:
        import ibis.backends.pyspark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"engine 'spark' needs pyspark, which is not installed ({exc})",
            parameter="engine",
            hint=INSTALL_HINT,
        ) from exc


def java_version(java: str) -> int | None:
    """The major version ``java -version`` reports (None if it prints none)."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


def find_java() -> str | None:
    """The java binary Spark would start: ``$JAVA_HOME/bin/java``, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def require_java() -> None:
    """Raise a ConfigError naming the fix if no Java >= 17 is found for Spark's driver."""
    java = find_java()
    fix = (
        f"Spark's driver runs in Java; install Java {MIN_JAVA} or newer "
        "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install "
        "openjdk@17) and put it on PATH or set JAVA_HOME, or use a remote Spark Connect "
        f"server by setting {REMOTE_ENV}=sc://HOST:15002."
    )
    if java is None:
        where = os.environ.get("JAVA_HOME")
        found = f"JAVA_HOME={where} has no bin/java" if where else "no java on PATH"
        raise ConfigError(
            "engine 'spark' needs Java, which was not found",
            parameter="engine",
            found=found,
            hint=fix,
        )
    version = java_version(java)
    if version is not None and version < MIN_JAVA:
        raise ConfigError(
            f"engine 'spark' needs Java {MIN_JAVA} or newer",
            parameter="engine",
            found=f"Java {version} at {java}",
            hint=fix,
        )


def require_reachable(remote: str, timeout: float = 10.0) -> None:
    """Fail fast when a Spark Connect server does not answer (the client would retry for
    minutes before saying anything)."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(remote.split(";")[0])  # sc://host:port/;token=...;use_ssl=true
    host, port = url.hostname or "localhost", url.port or 15002
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Spark Connect server at {host}:{port} ({exc})",
            parameter=REMOTE_ENV,
            found=remote,
            hint="Start the server (sbin/start-connect-server.sh) or fix SPARK_REMOTE; "
            "unset SPARK_REMOTE to start a local Spark instead.",
        ) from exc


def spark_session(
    master: str | None = None, remote: str | None = None, memory: str | None = None
) -> Any:
    """A SparkSession: Spark Connect if ``remote`` (or ``SPARK_REMOTE``), else classic.

    ``memory`` (``--memory-limit``, e.g. ``8GB``) sizes a local session's driver JVM, which
    holds the executors too; on a cluster, size executors in spark-defaults.conf instead.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    remote = remote or os.environ.get(REMOTE_ENV)
    builder = SparkSession.builder.appName("sds")
    if remote:
        if remote.startswith("sc://"):
            require_reachable(remote)
        else:
            require_java()  # "local[...]" starts a Connect server in a local JVM
        return builder.remote(remote).getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active  # e.g. the notebook's ``spark`` on Databricks
    require_java()
    master = master or "local[*]"
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", local_partitions(master))
        # adaptive execution runs each shuffle stage as a job of its own and re-plans after
        # it; with a few local partitions it has nothing to coalesce (see local_partitions)
        builder = builder.config("spark.sql.adaptive.enabled", "false")
        if memory:
            builder = builder.config("spark.driver.memory", jvm_size(memory))
    if not os.environ.get("SPARK_CONF_DIR"):  # else the user's own Spark configuration rules
        options = [quiet_logging_option(), *throughput_gc_option(master)]
        builder = builder.config("spark.driver.extraJavaOptions", " ".join(options))
    session = builder.master(master).getOrCreate()
    session.sparkContext.setLogLevel("FATAL")  # sds reports failures itself (--debug)
    return session


# Spark's log4j2 configuration for the driver sds starts: only FATAL reaches the console, so
# the start-up lines (default profile, loopback hostname, native-hadoop, "Setting default log
# level": Spark prints it when the Python gateway's level differs from the root's) stay off
# the user's terminal; sds names failures itself. The JVM prints "Using incubator modules"
# before any logging starts: that one line stays.
QUIET_LOG4J2 = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = fatal
"""


def quiet_logging_option() -> str:
    """The JVM option pointing the driver's log4j2 at :data:`QUIET_LOG4J2`, written to a
    private temporary file removed when this process exits."""
    import atexit
    import tempfile
    from pathlib import Path

    handle, name = tempfile.mkstemp(prefix="sds-log4j2-", suffix=".properties")
    with os.fdopen(handle, "w") as f:
        f.write(QUIET_LOG4J2)
    atexit.register(Path(name).unlink, missing_ok=True)
    return f"-Dlog4j2.configurationFile=file:{name}"


# The JVM reads these before its command line; a collector named there and another on the
# command line would stop it from starting.
JVM_ENV_OPTIONS = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


def throughput_gc_option(master: str) -> list[str]:
    """``-XX:+UseParallelGC`` for a local session's driver, which runs every task: sds'
    jobs are batch scans, where the throughput collector costs less CPU than the JVM's
    default G1 (its write barriers and concurrent threads): about a tenth of the task CPU
    time of an analysis' aggregate of 10,000,000 rows on 2 cores. Pauses matter little to
    a batch job. None on a cluster (the driver runs no tasks) or when the environment's JVM
    options choose a collector themselves."""
    chosen = any("GC" in os.environ.get(name, "") for name in JVM_ENV_OPTIONS)
    return [] if chosen or not master.startswith("local") else ["-XX:+UseParallelGC"]


def local_partitions(master: str) -> str:
    """Shuffle partitions for ``local[N]``: two per core (Spark's 200 are for clusters, and
    on one machine each costs a task's overhead)."""
    match = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master.strip())
    cores = match.group(1) if match else None
    count = int(cores) if cores and cores != "*" else (os.cpu_count() or 2)
    return str(2 * count)


def jvm_size(memory: str) -> str:
    """``8GB``, ``8 GiB``, ``512MB`` as the JVM writes them (``8g``, ``512m``)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT])i?B?\s*", memory, re.IGNORECASE)
    if not match:
        raise ConfigError(
            f"memory limit {memory!r} is not a size",
            parameter="memory_limit",
            expected="a whole number with KB, MB, GB or TB, e.g. 8GB",
        )
    return f"{match.group(1)}{match.group(2).lower()}"


def is_spark_error(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by Spark (classic or Connect) rather than by sds."""
    module = type(exc).__module__ or ""
    return module.startswith(("pyspark", "py4j"))


_JAVA_ERROR = re.compile(r"((?:[a-z]\w*\.)+[A-Z]\w*(?:Exception|Error)): ([^\n]*)")
_CAUSED_BY = re.compile(r"Caused by: ((?:[a-z]\w*\.)+[A-Z]\w*): ([^\n]*)")
_IO_ERRORS = {"FileNotFoundException", "AccessDeniedException", "AccessControlException"}
_PATH_NOT_FOUND = re.compile(r"\[PATH_NOT_FOUND\][^:]*:\s*(\S+?)\.?\s*SQLSTATE", re.DOTALL)


def spark_error(exc: BaseException, source: str) -> DataError | AnalysisError:
    """Map one Spark exception to the sds error a user can act on."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    condition = getattr(exc, "getCondition", lambda: None)() or ""
    if "PATH_NOT_FOUND" in text or condition == "PATH_NOT_FOUND":
        match = _PATH_NOT_FOUND.search(text)
        path = match.group(1) if match else source
        return DataError(
            f"Spark cannot read the path {path}",
            source=source,
            hint="Check the path and that the cluster can reach it (HDFS/S3 credentials).",
        )
    if "MALFORMED_RECORD" in text:
        record = re.search(r"record parsing: (\[[^\]]*\])", text)
        causes = _CAUSED_BY.findall(text)
        cause = f"{causes[-1][0].split('.')[-1]}: {causes[-1][1].strip()}" if causes else first
        return DataError(
            f"a value does not parse as its column's type ({cause})",
            source=source,
            found=f"record {record.group(1)}" if record else None,
            hint="Column types are read from the first rows of a CSV; fix the value, or save "
            "the data as Parquet with the types you mean.",
        )
    java = _JAVA_ERROR.search(text)
    no_connector = "UnsupportedFileSystemException" in text or (
        "ClassNotFoundException" in text and "FileSystem" in text
    )
    if java and no_connector:
        return DataError(
            f"Spark has no connector for this path's file system ({java.group(2).strip()})",
            source=source,
            hint="Give Spark the file system's connector, e.g. for s3a:// "
            "PYSPARK_SUBMIT_ARGS='--packages org.apache.hadoop:hadoop-aws:<Hadoop version> "
            "pyspark-shell', or spark.jars.packages in $SPARK_CONF_DIR/spark-defaults.conf; "
            "or use a cluster that has it.",
        )
    if java and java.group(1).split(".")[-1] in _IO_ERRORS:
        return DataError(f"Spark cannot read the path: {java.group(2).strip()}", source=source)
    if java:
        return AnalysisError(f"Spark failed: {java.group(1)}: {java.group(2)}", source=source)
    if "UNABLE_TO_INFER_SCHEMA" in text:
        return DataError(f"Spark cannot read it: {first}", source=source)
    if type(exc).__name__ in ("AnalysisException", "ParseException"):
        return DataError(f"the query does not fit the data: {first}", source=source)
    return AnalysisError(f"Spark failed: {first}", source=source)


def to_arrow(con: Any, expr: Any) -> Any:
    """Run an Ibis expression on Spark and collect it as Arrow (``DataFrame.toArrow``),
    without the pandas round trip Ibis' own ``to_pyarrow`` takes."""
    from ibis.formats.pyarrow import PyArrowData

    table_expr = expr.as_table()
    con._run_pre_execute_hooks(table_expr)  # registers in-memory tables with the session
    frame = con._session.sql(con.compile(table_expr))
    with warnings.catch_warnings():
        # pyspark 4.0's collection leaves its local socket for the collector to close
        warnings.simplefilter("ignore", ResourceWarning)
        # one chunk per column, whatever the partitions: pyspark cannot register a
        # frame whose columns are chunked as an in-memory table again
        collected = frame.toArrow().combine_chunks()
    arrow = PyArrowData.convert_table(collected, table_expr.schema())
    return expr.__pyarrow_result__(arrow)


def take_arrow(con: Any, expr: Any, n: int) -> Any:
    """The first ``n`` rows of an Ibis table expression on Spark, as Arrow: ``take`` reads
    partitions in order from the first until it has them (the same rows each run)."""
    import pyarrow as pa

    con._run_pre_execute_hooks(expr)  # registers in-memory tables with the session
    frame = con._session.sql(con.compile(expr))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # as in to_arrow
        rows = frame.take(n)
    schema = expr.schema().to_pyarrow()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(schema.names)}
    return pa.table(columns, schema=schema)


def cache_table(con: Any, expr: Any) -> tuple[Any, Callable[[], None]]:
    """An Ibis table over a cached copy of ``expr`` (executor memory, spilling to disk), and
    the function that releases it: drops its temp view and unpersists its data.

    Each call caches anew under its own view (Ibis' ``cache()`` shares one copy among equal
    expressions, so one job's release would pull it from under another's)."""
    import uuid

    con._run_pre_execute_hooks(expr)  # registers in-memory tables with the session
    frame = con._session.sql(con.compile(expr)).cache()
    name = f"sds_cache_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)

    def release() -> None:
        con._session.catalog.dropTempView(name)
        frame.unpersist(blocking=True)

    return con.table(name), release


def write_uri(con: Any, expr: Any, uri: str, *, csv: bool) -> None:
    """Write ``expr`` to ``uri`` with Spark's own writer: a folder of part files, Parquet
    or (``csv``) CSV with a header, committed by Spark's output committer, so a failed job
    leaves no ``_SUCCESS`` and readers of a finished one see it whole.

    An earlier Spark output at ``uri`` is replaced; a file there too; any other folder is
    refused, nothing touched. Spark Connect cannot list the path first, so there anything
    already at ``uri`` is refused (Spark's error).

    Raises:
        InputError: ``uri`` is a folder that is not an earlier Spark output.
    """
    session = con._session
    replace = _may_replace(session, uri)
    con._run_pre_execute_hooks(expr)  # registers in-memory tables with the session
    writer = session.sql(con.compile(expr)).write.mode("overwrite" if replace else "error")
    if csv:
        writer.option("header", "true").csv(uri)
    else:
        writer.parquet(uri)


def write_observed(
    con: Any, expr: Any, path: str, *, csv: bool, hidden: tuple[str, ...], observe: dict[str, str]
) -> dict[str, Any]:
    """Write ``expr`` to ``path`` as Ibis' writers do (a folder of part files; CSV with a
    header), without its ``hidden`` columns, and return the Spark SQL aggregates
    ``observe`` (name: expression) over its rows, hidden columns included, computed while
    they are written (``DataFrame.observe``: no second pass, no job of their own)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as sf

    con._run_pre_execute_hooks(expr)  # registers in-memory tables with the session
    frame = con._session.sql(con.compile(expr))
    observation = Observation("sds_write")
    metrics = [sf.expr(sql).alias(name) for name, sql in observe.items()]
    writer = frame.observe(observation, *metrics).drop(*hidden).write
    if csv:
        writer.format("csv").option("header", "true").save(path)
    else:
        writer.format("parquet").save(path)
    return dict(observation.get)


def _may_replace(session: Any, uri: str) -> bool:
    """Whether Spark may overwrite what is at ``uri``: nothing, a file or an earlier Spark
    output, listed through Hadoop's file system; False on Spark Connect, which cannot list.

    Raises:
        InputError: ``uri`` is a folder that is not an earlier Spark output.
    """
    try:
        jvm, conf = session.sparkContext._jvm, session.sparkContext._jsc.hadoopConfiguration()
    except Exception:  # Spark Connect: no JVM in this process
        return False
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
        return True
    listing = [(s.getPath().getName(), bool(s.isDirectory())) for s in fs.listStatus(path)]
    if is_part_listing(listing):
        return True
    raise InputError(
        "is a folder that is not an earlier Spark output (_SUCCESS and part files only); "
        "sds never replaces it",
        source=uri,
        hint="Name a new path (a path inside that folder is fine).",
    )


def read_frame(
    session: Any, kind: str, paths: list[str], *, delim: str | None, encoding: str | None
) -> tuple[Any, Footer | None]:
    """A Spark DataFrame over Parquet, JSON-lines or CSV ``paths``, CSV read as DuckDB reads
    it: a header row, DuckDB's sniffed types for local files, and a value that does not parse
    is an error (not a silent null). With it, the files' footers when this process can read
    them (local Parquet: :mod:`sds.data.spark_footer`, whose schema also spares Spark's
    inference job), else None."""
    read = session.read
    if kind == "parquet":
        footer = local_footer(session, paths)
        if footer is None:
            return read.parquet(*paths), None
        return read.schema(footer.schema).parquet(*paths), footer
    if kind == "json":
        return read.json(paths), None
    schema = csv_schema(paths, delim, encoding)
    options = {"sep": delim, "encoding": encoding, "schema": schema}
    frame = read.csv(
        paths,
        header=True,
        inferSchema=schema is None,
        mode="FAILFAST",
        **{k: v for k, v in options.items() if v},
    )
    return frame, None


_SPARK_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR": "string",
}


def csv_schema(paths: list[str], delim: str | None, encoding: str | None) -> str | None:
    """A Spark DDL schema for local CSV files, from DuckDB's type sniffer.

    Spark's own inference reads zip codes such as ``02134`` as numbers and ints as 32-bit;
    sniffing with DuckDB gives both engines one set of types. Files behind a URI (HDFS, S3)
    return None and are left to Spark's inference.
    """
    if any(URI.match(p) for p in paths):
        return None
    import duckdb

    options = {"delim": delim, "encoding": encoding}
    args = "".join(f", {k} = '{v.replace(chr(39), chr(39) * 2)}'" for k, v in options.items() if v)
    files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    with duckdb.connect() as con:
        rows = con.sql(f"DESCRIBE SELECT * FROM read_csv({files}{args})").fetchall()
    fields = []
    for name, kind, *_ in rows:
        spark = _SPARK_TYPES.get(kind) or (kind.lower() if kind.startswith("DECIMAL") else "string")
        fields.append("`" + name.replace("`", "``") + f"` {spark}")
    return ", ".join(fields)
