"""Helpers for the browser tests: finding fields by their Chinese labels and
checking pages with axe-core."""

import re

from axe_playwright_python.sync_playwright import Axe

# axe-core impacts that fail a test; "moderate" and "minor" do not.
BLOCKING_IMPACTS = {"serious", "critical"}


def field(tab, label: str):  # type: ignore[no-untyped-def]
    """The form control whose <label> reads `label`, with or without the
    required-field asterisk; "密码" does not match "密码（重复）"."""
    return tab.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def axe_violations(tab) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the current page."""
    return Axe().run(tab).response["violations"]


def axe_report(violations: list[dict]) -> str:
    """One paragraph per violation: what, how bad, where, and how to fix it."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"  - {target}\n      {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


def assert_no_serious_axe_violations(tab) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(tab)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {tab.url}:\n{axe_report(blocking)}"
