"""robot-twitch report: real HTML (tables with header rows, captioned figures, the config folded
away), no Markdown; sweeps name their runs after the condition and flag thin confidence intervals."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import yaml

from robot_twitch.cli import main

TINY = {"name": "tiny", "seed": 1, "body": "planar_arm", "duration_s": 2.0,
        "learners": {"names": ["hebbian", "motor_map", "proprio", "forward"], "batch_steps": 50,
                     "params": {"forward": {"hidden": [8], "updates_per_batch": 1}}},
        "evaluation": {"every_s": 2.0, "reach_trials": 0}, "outputs": {"plots": True, "checkpoint_every_s": 2.0}}


class _Structure(HTMLParser):
    """Collects the tags of a page, each table's header cells and body rows, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.tables: list[dict[str, list]] = []
        self.text: list[str] = []
        self.figures: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(self.stack)))
        self.stack.append(tag)
        if tag == "table":
            self.tables.append({"th": [], "rows": 0})
        if tag == "tr" and "tbody" in self.stack:
            self.tables[-1]["rows"] += 1
        if tag == "figure":
            self.figures.append({"img": "", "caption": ""})
        if tag in ("img", "video") and "figure" in self.stack:
            self.figures[-1]["img"] = tag

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] == "th":
            self.tables[-1]["th"].append(data.strip())
        if "figcaption" in self.stack:
            self.figures[-1]["caption"] += data


def _parse(path: Path) -> _Structure:
    page = _Structure()
    page.feed(path.read_text())
    return page


def _no_markdown(page: _Structure) -> None:
    text = "".join(page.text)
    assert "|---" not in text and "| " not in text and "<pre>|" not in text


def test_run_report_is_real_html(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(TINY))
    assert main(["run", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert main(["report", str(run_dir)]) == 0
    page = _parse(run_dir / "report.html")
    metrics, budget = page.tables[:2]
    assert metrics["th"] == ["metric", "value", "what it measures"] and metrics["rows"] >= 5
    assert budget["th"][:2] == ["quantity", "value"]
    assert all(f["img"] and len(f["caption"]) > 40 for f in page.figures) and len(page.figures) >= 2
    # The config is folded away in <details>, not printed in full.
    assert any(tag == "pre" and "details" in parents for tag, parents in page.tags)
    assert not any(tag == "pre" and "details" not in parents for tag, parents in page.tags)
    _no_markdown(page)
    html = (run_dir / "report.html").read_text()
    assert "max-width" in html and "<meta name='viewport'" in html


def check_sweep_report(path: Path) -> None:
    """A sweep's report.html: one metrics x conditions table with n per condition, the n < 3 flag,
    one captioned figure, no Markdown (called by tests/test_cli.py on its sweep)."""
    page = _parse(path)
    (table,) = page.tables
    assert table["th"][0] == "metric" and any("amplitude_mean=0.5" in h for h in table["th"])
    assert table["rows"] >= 5
    text = "".join(page.text)
    assert "fewer than 3 seeds" in text and "†" in text and "n = 2" in text
    assert len(page.figures) == 1 and "fewer than 3 seeds are hatched" in page.figures[0]["caption"]
    _no_markdown(page)
