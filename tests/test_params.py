import pytest

from sds.errors import ParameterError
from sds.params import RULES, Interval, OneOf, check


def _invalid_values(rule: Interval | OneOf) -> list[object]:
    """Values that break a rule, generated from the rule itself."""
    if isinstance(rule, OneOf):
        return ["not-an-option", None]
    bad: list[object] = ["text", float("nan"), True]
    if rule.low is not None:
        bad.append(rule.low if rule.low_open else rule.low - 1)
    if rule.high is not None:
        bad.append(rule.high if rule.high_open else rule.high + 1)
    if rule.integer:
        bad.append(1.5 if (rule.low or 0) < 1.5 else rule.low + 0.5)
    return bad


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_rejects_generated_invalid_values(name: str) -> None:
    for value in _invalid_values(RULES[name]):
        with pytest.raises(ParameterError, match=rf"^parameter '{name}': {name} == "):
            check(name, value)


def test_message_shape() -> None:
    with pytest.raises(ParameterError) as info:
        check("alpha", 1.5)
    assert str(info.value).startswith("parameter 'alpha': alpha == 1.5, must be < 1;")
    assert "number in (0, 1)" in str(info.value)


def test_valid_values_pass() -> None:
    assert check("alpha", 0.05) == 0.05
    assert check("bins", 20) == 20
    assert check("x", "b", OneOf(("a", "b"))) == "b"


def test_weights_normalised_and_checked() -> None:
    from sds.params import check_weights

    assert check_weights([50, 50]) == [0.5, 0.5]
    assert check_weights([0.2, 0.3, 0.5]) == [0.2, 0.3, 0.5]
    with pytest.raises(ParameterError, match=r"weights == 50,40, must sum to 1 \(or 100\)"):
        check_weights([50, 40])
    with pytest.raises(ParameterError, match=r"weight == -1"):
        check_weights([-1, 2])
    with pytest.raises(ParameterError, match="at least 2 weights"):
        check_weights([1.0])
