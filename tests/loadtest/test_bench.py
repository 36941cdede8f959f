"""The `make bench` runner: parsing figure lines defensively and writing the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.bench import END, START, Figure, figures_of, parse_line, table, write_doc


def test_parses_the_json_line() -> None:
    figure = parse_line(
        "bench_queue",
        'BENCH {"name": "engine join", "value": 5321, "unit": "joins/s", "ratio": 0.83, '
        '"reference": "redis-benchmark", "goal": ">= 0.8"}',
    )
    assert figure == Figure(
        "bench_queue", "engine join", 5321.0, "joins/s", 0.83, "redis-benchmark", ">= 0.8"
    )
    assert figure.met is True


def test_parses_the_human_line_with_separators_and_goal() -> None:
    figure = parse_line("m", "http join: 3,100.5 req/s (ratio 0.41x vs bare Starlette) goal >= 0.5")
    assert figure is not None
    assert (figure.name, figure.value, figure.unit, figure.ratio) == (
        "http join",
        3100.5,
        "req/s",
        0.41,
    )
    assert figure.reference == "bare Starlette"
    assert figure.met is False


def test_a_goal_in_the_figures_unit_is_for_the_value_not_the_ratio() -> None:
    memory = Figure("ws", "memory", 17.4, "KiB", 1.07, "bare", "< 20 KiB")
    assert memory.met is True
    assert Figure("ws", "memory", 28.7, "KiB", 0.9, "bare", "< 20 KiB").met is False
    assert Figure("ws", "lag", 75.0, "ms", 0.3, "bare", "< 20 KiB").met is None  # unit mismatch
    assert Figure("q", "join", 10.0, "/s", 0.85, "ref", ">= 0.8x").met is True


@pytest.mark.parametrize(
    "line",
    [
        "",
        "machine: 2 cpus",
        "BENCH {not json",
        "BENCH []",
        'BENCH {"value": 1}',
        "x: y (ratio z vs q)",
        "ratio 0.5 vs nothing",
    ],
)
def test_ignores_everything_else(line: str) -> None:
    assert parse_line("m", line) is None


def test_odd_json_values_do_not_raise() -> None:
    figure = parse_line("m", 'BENCH {"name": "n", "value": "fast", "ratio": null, "goal": "soon"}')
    assert figure is not None and figure.value is None and figure.met is None


def test_table_lists_failed_modules_and_doc_keeps_prose(tmp_path: Path) -> None:
    figures = [Figure("bench_a", "f", 10.0, "/s", 2.0, "ref", "< 1")]
    rendered = table(figures, {"bench_a": "ok", "bench_b": "exit 1"})
    assert "| bench_a | f |" in rendered and "**no**" in rendered
    assert "bench_b | no figures (exit 1)" in rendered
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Perf\n\nprose before\n\n{START}\nold\n{END}\n\nprose after\n")
    write_doc(rendered, doc)
    text = doc.read_text()
    assert "old" not in text and "prose before" in text and "prose after" in text
    assert text.count(START) == 1 and "| bench_a | f |" in text
    fresh = tmp_path / "new.md"
    write_doc("table", fresh)
    assert f"{START}\ntable\n{END}" in fresh.read_text()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "draw (pure)      :     12.3 ms   sha256 of the ids: 1.2 ms   ratio 10.3x",
            ("draw (pure)", 12.3, "ms", 10.3, "sha256 of the ids: 1.2 ms"),
        ),
        (
            "Ed25519 decode+verify (1 core)            12345 /s = 0.52 x pgbench",
            ("Ed25519 decode+verify (1 core)", 12345.0, "/s", 0.52, "pgbench"),
        ),
    ],
)
def test_loose_forms_other_modules_print(line: str, expected: tuple[object, ...]) -> None:
    figure = parse_line("m", line)
    assert figure is not None
    assert (figure.name, figure.value, figure.unit, figure.ratio, figure.reference) == expected


def test_bench_lines_win_over_their_human_twins() -> None:
    output = "\n".join(
        [
            'BENCH {"name": "a", "value": 1, "ratio": 0.5, "reference": "r"}',
            "a: 1 /s (ratio 0.5 vs r)",
            "b: 2 /s (ratio 0.7 vs r)",
            'BENCH {"name": "a", "value": 3, "ratio": 0.6, "reference": "r"}',
        ]
    )
    assert [(f.name, f.value) for f in figures_of("m", output)] == [("a", 3.0)]
    human = "a: 1 /s (ratio 0.5 vs r)\nb: 2 /s (ratio 0.7 vs r)"
    assert [f.name for f in figures_of("m", human)] == ["a", "b"]
