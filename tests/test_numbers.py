"""Numbers as the card author writes them, exact where they can be (issue 12, items 2 to 4).

Scientific notation is read wherever a number is, big integers stay exact, a rounded value is
never shown as if it were exact, and each number is written in its shortest exact form, the same
in the question, the worked lines and the answer.
"""

from __future__ import annotations

import pytest

from ankismith.cards.yamlsafe import load_mapping

# --- item 2: scientific notation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("m: 1e3", 1000.0),
        ("lr: 1e-3", 0.001),
        ("lr: 1.5e-3", 0.0015),
        ("x: -2E+10", -2e10),
        ("x: .5e2", 50.0),
        ("x: 1.0e-3", 0.001),  # YAML 1.1 already read this one
    ],
)
def test_yaml_reads_scientific_notation_as_numbers(text: str, value: float) -> None:
    assert load_mapping(text).data == {text.split(":")[0]: value}


def test_yaml_keeps_text_that_is_not_a_number() -> None:
    assert load_mapping("a: 1e\nb: e5\nc: '1e3'\nd: 1e2..1e3\ne: 1_000\n").data == {
        "a": "1e",
        "b": "e5",
        "c": "1e3",
        "d": "1e2..1e3",
        "e": 1000,
    }


def test_yaml_refuses_an_absurdly_long_integer_at_its_line() -> None:
    from ankismith.cards.yamlsafe import YamlProblem

    with pytest.raises(YamlProblem, match="5,000 digits is too long") as caught:
        load_mapping("a: 1\nb: " + "9" * 5000 + "\n")
    assert caught.value.line in (1, 2)  # 0-based inside the text here, or counted from its first line
