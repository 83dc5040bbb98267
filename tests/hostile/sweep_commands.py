"""The sweep's entry for every ``sds`` command: its minimal valid invocation and what it
reads (see :mod:`tests.hostile.sweep_cases`). A command missing here fails the sweep."""

from __future__ import annotations

from tests.hostile.sweep_cases import Command, Slot

AB = Slot("{ab}", "ab", "revenue", "country")
OBS = Slot("{obs}", "obs", "y", "label")
PANEL = Slot("{panel}", "panel", "y", "label")
RD = Slot("{rd}", "rd", "score", "label")
CHURN = Slot("{churn}", "churn", "tenure_months", "contract")
CHURN2 = Slot("{churn2}", "churn2", "tenure_months", "contract")
EVENTS = Slot("{events}", "events", "amount", "category")
LOG = Slot("{log}", "log", "latency_ms", "variant")

# profile is meant to read odd tables: it reports them (flags), so these succeed
PROFILE_USABLE = frozenset(
    f"ab={f}" for f in ("wrong_type_all", "wrong_type_some", "nonfinite", "single_row", "all_null")
)


def _causal(
    method: str,
    args: tuple[str, ...],
    slot: Slot,
    columns: tuple[str, ...],
    numbers: tuple[str, ...] = (),
    usable: frozenset[str] = frozenset(),
) -> Command:
    base = ("causal", method, "--data", slot.placeholder, *args)
    return Command(
        f"causal {method}",
        base,
        slots=(slot,),
        columns=tuple((c, base[base.index(c) + 1]) for c in columns),
        numbers=("--alpha", *numbers),
        required=("--data", *(c for c in columns if c != "--covariates")),
        usable=usable,
    )


PANEL_ARGS = ("--outcome", "y", "--treatment", "d", "--unit", "unit", "--time", "period")
PANEL_COLUMNS = ("--outcome", "--treatment", "--unit", "--time")
OBS_ARGS = ("--outcome", "y", "--treatment", "t", "--covariates", "x1,x2")

COMMANDS: tuple[Command, ...] = (
    Command(
        "profile",
        ("profile", "{ab}"),
        slots=(AB,),
        columns=(("--columns", "revenue"), ("--expect", "revenue=numeric")),
        numbers=("--top-k", "--bins", "--exact-distinct-max-rows"),
        usable=PROFILE_USABLE,
        extra=(("--fail-on unknown", ("profile", "{ab}", "--fail-on", "weird")),),
    ),
    Command(
        "demo",
        ("demo", "--rows", "3000", "-o", "{out_dir}"),
        numbers=("--rows", "--seed"),
        output=None,
        extra=(
            ("output is a file", ("demo", "--rows", "3000", "-o", "{a_file}")),
            ("--rows huge", ("demo", "--rows", "1000000000000")),
        ),
    ),
    Command(
        "design proportion",
        ("design", "proportion", "--baseline", "0.05", "--mde", "0.1"),
        slots=(Slot("{ab}", "ab", "converted", "country"),),
        data_base=(
            "design",
            "proportion",
            "--data",
            "{ab}",
            "--column",
            "converted",
            "--mde",
            "0.1",
        ),
        numbers=(
            "--baseline",
            "--mde",
            "--n-per-variant",
            "--alpha",
            "--power",
            "--ratio",
            "--arms",
            "--rho",
            "--daily-units",
            "--max-days",
            "--looks",
        ),
        extra=(
            (
                "--column misspelled",
                ("design", "proportion", "--data", "{ab}", "--column", "convertd", "--mde", "0.1"),
            ),
        ),
    ),
    Command(
        "design mean",
        ("design", "mean", "--mean", "10", "--std", "5", "--mde", "0.05"),
        slots=(AB,),
        data_base=("design", "mean", "--data", "{ab}", "--column", "revenue", "--mde", "0.05"),
        numbers=("--mean", "--std", "--mde", "--n-per-variant", "--spending-gamma"),
        usable=frozenset({"--mean=-1", "--mean=1e30", "--mde=1e30"}),  # finite and possible
        refused=frozenset({"--std=1e30"}),  # no sample size reaches the power
    ),
    Command(
        "design ratio",
        (
            "design",
            "ratio",
            "--data",
            "{ab}",
            "--numerator",
            "orders",
            "--denominator",
            "sessions",
            "--mde",
            "0.05",
        ),
        slots=(Slot("{ab}", "ab", "orders", "country"),),
        columns=(("--numerator", "orders"), ("--denominator", "sessions")),
        numbers=("--mde", "--alpha"),
        usable=frozenset({"--mde=1e30"}),  # finite and possible: the plan needs few units
    ),
    Command(
        "design spec",
        ("design", "spec", "{dspec}"),
        spec=("{dspec}", "dspec", "baseline"),
    ),
    Command(
        "assign",
        ("assign", "--experiment", "e", "--variants", "a,b", "--data", "{ab}"),
        slots=(Slot("{ab}", "ab", "user_id", "country"),),
        columns=(("--id-column", "user_id"),),
        # ids are any text, and one unit can be assigned
        usable=frozenset({"ab=wrong_type_all", "ab=wrong_type_some", "ab=single_row"}),
        output="{out_dir}/assigned.json",
        extra=(
            ("--ids empty", ("assign", "--experiment", "e", "--variants", "a,b", "--ids", "")),
            (
                "--shares nan",
                (
                    "assign",
                    "--experiment",
                    "e",
                    "--variants",
                    "a,b",
                    "--data",
                    "{ab}",
                    "--shares",
                    "nan,nan",
                ),
            ),
            (
                "--variants one",
                ("assign", "--experiment", "e", "--variants", "a", "--data", "{ab}"),
            ),
        ),
        required=("--experiment", "--variants"),
    ),
    Command(
        "srm",
        (
            "srm",
            "--data",
            "{ab}",
            "--variants",
            "control,treatment",
            "--date-column",
            "assigned_at",
        ),
        slots=(Slot("{ab}", "ab", "assigned_at", "variant"),),
        columns=(("--variant-column", "variant"), ("--date-column", "assigned_at")),
        numbers=("--alpha", "--share-tolerance"),
        usable=frozenset({"ab=single_row"}),  # reported, and said to be noise at 1 unit
        required=("--date-column", "--variants"),
        extra=tuple(
            (f"--counts {c}", ("srm", "--counts", c))
            for c in ("nan,inf", "1e400,1", "1e30,1e30", "-5,5", "1.5,2", "abc")
        ),
    ),
    Command(
        "stats",
        ("stats", "ttest", "--data", "{ab}", "--value", "revenue", "--group", "variant"),
        slots=(AB,),
        columns=(("--value", "revenue"), ("--group", "variant")),
        numbers=("--alpha", "--mu"),
        usable=frozenset({"--mu=-1", "--mu=1e30"}),  # any finite hypothesised mean
        extra=(
            ("unknown test", ("stats", "ttestt", "--data", "{ab}", "--value", "revenue")),
            ("formula syntax", ("stats", "ols", "--data", "{ab}", "--formula", "revenue ~ (")),
            ("--data empty", ("stats", "ttest", "--data", "", "--value", "revenue")),
        ),
    ),
    Command(
        "analyze",
        ("analyze", "{aspec}"),
        slots=(AB,),
        data_base=("analyze", "{aspec}", "--data", "{ab}"),
        spec=("{aspec}", "aspec", "variant"),
        extra=(("resamples huge", ("analyze", "{aspec_resamples}")),),
    ),
    Command(
        "features build",
        (
            "features",
            "build",
            "{fspec}",
            "--data",
            "{events}",
            "--data-output",
            "{out_dir}/f.parquet",
        ),
        slots=(EVENTS,),
        spec=("{fspec}", "fspec", "entity"),
        output=None,
        # one customer's features; an empty amount column builds null sums, with a warning
        usable=frozenset({"events=single_row", "events=all_null"}),
        extra=(
            (
                "--data-output .csv",
                ("features", "build", "{fspec}", "--data-output", "{out_dir}/f.csv"),
            ),
        ),
    ),
    Command(
        "features select",
        ("features", "select", "--data", "{churn}", "--target", "churned"),
        slots=(CHURN,),
        columns=(("--target", "churned"),),
        numbers=("--max-rows", "--seed"),
        slow_data=True,
        # dropping constant, null and odd columns, with the reason, is what select is for
        usable=frozenset({"churn=wrong_type_all", "churn=wrong_type_some", "churn=all_null"}),
    ),
    Command(
        "features check",
        (
            "features",
            "check",
            "--reference",
            "{churn}",
            "--data",
            "{churn2}",
            "--exclude",
            "churned",
        ),
        slots=(CHURN, CHURN2),
        columns=(("--exclude", "churned"),),
        numbers=("--bins", "--max-rows", "--seed"),
        slow_data=True,
        slow=frozenset({"--exclude=misspelled", "-o under a file"}),  # they run the check
        usable=frozenset({"churn=all_null", "churn2=all_null"}),  # reported per feature
    ),
    Command(
        "features register",
        ("features", "register", "{fspec}", "--data", "{events}", "--store", "{out_dir}/store"),
        slots=(EVENTS,),
        # one customer's features; an empty amount column builds null sums, with a warning
        usable=frozenset({"events=single_row", "events=all_null"}),
        spec=("{fspec}", "fspec", "entity"),
    ),
    Command(
        "features list",
        ("features", "list", "--store", "{store}"),
        extra=(
            ("--store is a file", ("features", "list", "--store", "{ab}")),
            ("--store is a plain folder", ("features", "list", "--store", "{a_dir}")),
            ("name with a path", ("features", "list", "../x", "--store", "{store}")),
        ),
    ),
    Command(
        "features get",
        ("features", "get", "fs", "--store", "{store}"),
        output="{out_dir}/rows.parquet",
        extra=(
            ("unknown name", ("features", "get", "nope", "--store", "{store}")),
            ("unknown version", ("features", "get", "fs@v99", "--store", "{store}")),
            ("bad version", ("features", "get", "fs@vx", "--store", "{store}")),
            ("path name", ("features", "get", "../fs", "--store", "{store}")),
            (
                "--as-of not a time",
                ("features", "get", "fs", "--store", "{store}", "--as-of", "yesterday-ish"),
            ),
            (
                "--labels missing",
                ("features", "get", "fs", "--store", "{store}", "--labels", "{a_dir}/absent.csv"),
            ),
            ("--store is a file", ("features", "get", "fs", "--store", "{ab}")),
        ),
    ),
    Command(
        "train",
        ("train", "{tconf}", "--no-track", "--model-dir", "{out_dir}/model"),
        slots=(CHURN,),
        data_base=(
            "train",
            "{tconf}",
            "--data",
            "{churn}",
            "--no-track",
            "--model-dir",
            "{out_dir}/model",
        ),
        spec=("{tconf}", "tconf", "target"),
        slow_data=True,
        # a text column where numbers were is a category to the models
        usable=frozenset({"churn=wrong_type_all", "churn=wrong_type_some", "churn=all_null"}),
        extra=(
            (
                "trials huge",
                ("train", "{tconf_trials}", "--no-track", "--model-dir", "{out_dir}/model"),
            ),
        ),
    ),
    Command(
        "evaluate",
        ("evaluate", "-m", "{model}", "--data", "{churn}", "--config", "{scorecard}"),
        slots=(CHURN,),
        spec=("{scorecard}", "scorecard", "auc_min"),
        extra=(
            ("model missing", ("evaluate", "-m", "{a_dir}/absent")),
            ("model is a file", ("evaluate", "-m", "{ab}")),
            ("model is an empty folder", ("evaluate", "-m", "{a_dir}")),
            ("positive not a class", ("evaluate", "-m", "{model}", "--positive", "nope")),
        ),
        required=("-m",),
        usable=frozenset({"churn=all_null"}),  # the model imputes a missing feature
    ),
    Command(
        "reproduce",
        ("reproduce", "0123456789abcdef", "--tracking-uri", "sqlite:///{a_dir}/none.db"),
        numbers=("--tolerance",),
        extra=(
            ("run id empty", ("reproduce", "", "--tracking-uri", "sqlite:///{a_dir}/n.db")),
            ("tracking uri nonsense", ("reproduce", "abc", "--tracking-uri", "nonsense:://")),
            (
                "tracking uri is a folder",
                ("reproduce", "abc", "--tracking-uri", "sqlite:///{a_dir}"),
            ),
        ),
    ),
    Command(
        "serve",
        ("serve", "{model}", "--port", "{port}"),
        numbers=("--port", "--workers", "--canary-weight", "--range-margin", "--log-sample"),
        usable=frozenset({"--range-margin=-1"}),  # turns the range check off (a stub serves)
        output=None,
        extra=(
            ("model missing", ("serve", "{a_dir}/absent", "--port", "{port}")),
            ("model is a file", ("serve", "{ab}", "--port", "{port}")),
            ("model is an empty folder", ("serve", "{a_dir}", "--port", "{port}")),
            (
                "canary missing",
                ("serve", "{model}", "--port", "{port}", "--canary", "{a_dir}/absent"),
            ),
            ("--port 0", ("serve", "{model}", "--port", "0")),
            ("--workers 0", ("serve", "{model}", "--port", "{port}", "--workers", "0")),
            (
                "--canary-weight 2",
                (
                    "serve",
                    "{model}",
                    "--port",
                    "{port}",
                    "--canary",
                    "{model}",
                    "--canary-weight",
                    "2",
                ),
            ),
            ("--log-sample 2", ("serve", "{model}", "--port", "{port}", "--log-sample", "2")),
            ("--log-dir is a file", ("serve", "{model}", "--port", "{port}", "--log-dir", "{ab}")),
            (
                "--api-key-env unset",
                ("serve", "{model}", "--port", "{port}", "--api-key-env", "SDS_SWEEP_UNSET_KEY"),
            ),
        ),
    ),
    Command(
        "monitor",
        (
            "monitor",
            "--reference",
            "{churn}",
            "--data",
            "{churn2}",
            "--features",
            "tenure_months,contract",
        ),
        slots=(CHURN, CHURN2),
        columns=(("--features", "tenure_months,contract"),),
        numbers=("--bins", "--psi-warn", "--psi-alert"),
        required=("--reference", "--data"),
    ),
    Command(
        "canary report",
        ("canary", "report", "{log}"),
        slots=(LOG,),
        numbers=("--min-requests", "--alpha", "--latency-ratio-max"),
    ),
    _causal(
        "psm",
        OBS_ARGS,
        OBS,
        ("--outcome", "--treatment", "--covariates"),
        ("--k", "--caliper", "--trim"),
        frozenset({"--caliper=1e30"}),  # wider than any distance: no caliper
    ),
    _causal("ipw", OBS_ARGS, OBS, ("--outcome", "--treatment", "--covariates"), ("--trim",)),
    _causal("aipw", OBS_ARGS, OBS, ("--outcome", "--treatment", "--covariates")),
    _causal("did", PANEL_ARGS, PANEL, PANEL_COLUMNS, ("--permutations",)),
    _causal("event-study", PANEL_ARGS, PANEL, PANEL_COLUMNS, ("--leads", "--lags")),
    _causal("staggered", PANEL_ARGS, PANEL, PANEL_COLUMNS),
    _causal(
        "rdd",
        ("--outcome", "y", "--running", "score"),
        RD,
        ("--outcome", "--running"),
        ("--cutoff",),
    ),
    _causal(
        "iv",
        ("--outcome", "y", "--treatment", "t", "--instrument", "z"),
        OBS,
        ("--outcome", "--treatment", "--instrument"),
    ),
    Command(
        "causal advise",
        ("causal", "advise", "--assignment", "cutoff", "--full-compliance"),
        extra=(
            ("unknown assignment", ("causal", "advise", "--assignment", "coin")),
            ("missing answer off a terminal", ("causal", "advise", "--assignment", "policy")),
            ("no answers off a terminal", ("causal", "advise")),
        ),
    ),
)

GLOBAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("--threads 0", ("--threads", "0", "profile", "{ab}")),
    ("--threads huge", ("--threads", "1000000000", "profile", "{ab}")),
    ("--threads abc", ("--threads", "abc", "profile", "{ab}")),
    ("--memory-limit lots", ("--memory-limit", "lots", "profile", "{ab}")),
    ("--memory-limit 0GB", ("--memory-limit", "0GB", "profile", "{ab}")),
    ("--engine bogus", ("--engine", "bogus", "profile", "{ab}")),
    ("unknown command", ("profil", "{ab}")),
    ("unknown subcommand", ("causal", "pms")),
    ("unknown global option", ("--bogus", "profile", "{ab}")),
)
