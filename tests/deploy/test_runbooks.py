"""Runbooks exist for every incident the issue names, each with the four parts an operator needs."""

import re
from pathlib import Path

import pytest

from tests.deploy.hcl import module_blocks

RUNBOOKS = Path(__file__).resolve().parents[2] / "deploy" / "runbooks"
CONCRETE = [
    "web-restart-rollback.md",
    "cloudsql-failover.md",
    "relayer-lag.md",
    "webhook-storms.md",
    "pubsub-backlog.md",
    "dataflow-lag.md",
    "secret-rotation-failure.md",
]


@pytest.mark.parametrize("name", CONCRETE)
def test_each_runbook_has_symptoms_dashboards_commands_and_verification(name):
    text = (RUNBOOKS / name).read_text()
    headings = [h.lower() for h in re.findall(r"^## (.+)$", text, re.MULTILINE)]
    for part in ("symptoms", "dashboards", "commands", "verify"):
        assert any(h.startswith(part) for h in headings), f"{name} lacks a '{part}' section"
    assert "```" in text, f"{name} has no command to copy"


def test_incident_response_links_every_runbook_and_the_links_resolve():
    text = (RUNBOOKS / "incident-response.md").read_text()
    links = set(re.findall(r"\]\(([a-z-]+\.md)\)", text))
    assert set(CONCRETE) <= links
    assert all((RUNBOOKS / link).exists() for link in links)


def test_alerts_point_at_runbooks_that_exist():
    observability = (RUNBOOKS.parent / "terraform" / "modules" / "observability" / "main.tf").read_text()
    named = set(re.findall(r'runbook\s*=\s*"([a-z-]+\.md)"', observability))
    assert named and all((RUNBOOKS / name).exists() for name in named)
    assert "deploy/runbooks/incident-response.md" in observability
    assert module_blocks("observability")["resource"]["google_monitoring_alert_policy"]
