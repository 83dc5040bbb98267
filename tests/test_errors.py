from sds.errors import (
    AnalysisError,
    ConfigError,
    DataError,
    InputError,
    ParameterError,
    SdsError,
    close_matches,
    missing_column_error,
)


def test_message_is_built_from_fields() -> None:
    err = DataError(
        "no such column",
        source="a.csv",
        column="revnue",
        expected="one of: revenue, id",
        hint="Did you mean 'revenue'?",
    )
    assert str(err) == (
        "a.csv: column 'revnue': no such column; expected one of: revenue, id."
        " Did you mean 'revenue'?"
    )
    assert err.to_dict()["column"] == "revnue"
    assert err.to_dict()["error"] == "DataError"


def test_hierarchy_and_exit_codes() -> None:
    for cls in (DataError, ParameterError, ConfigError):
        assert issubclass(cls, InputError)
        assert issubclass(cls, ValueError)
        assert cls("x").exit_code == 2
    assert AnalysisError("x").exit_code == 1
    assert issubclass(AnalysisError, SdsError)


def test_close_matches_case_insensitive() -> None:
    assert close_matches("Revenu", ["revenue", "orders", "user_id"]) == ["revenue"]
    assert close_matches("zzz", ["revenue"]) == []


def test_missing_column_error_lists_matches() -> None:
    err = missing_column_error("scor", ["score", "city"], "data.csv")
    assert "Did you mean 'score'?" in str(err)
    assert "data.csv" in str(err)
