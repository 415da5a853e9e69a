"""The flex template spec names only options the pipeline has, so a launch cannot pass an unknown one."""

import json
from pathlib import Path

from dataflow.risk_pipeline.main import RiskPipelineOptions

ROOT = Path(__file__).resolve().parents[2]


def pipeline_option_names() -> set[str]:
    import argparse

    parser = argparse.ArgumentParser()
    RiskPipelineOptions._add_argparse_args(parser)
    return {action.dest for action in parser._actions if action.dest != "help"}


def test_every_template_parameter_is_a_pipeline_option_and_the_subscription_is_required():
    spec = json.loads((ROOT / "dataflow/flex_template/metadata.json").read_text())
    names = [p["name"] for p in spec["parameters"]]
    assert set(names) <= pipeline_option_names()
    assert len(names) == len(set(names))
    required = {p["name"] for p in spec["parameters"] if not p.get("isOptional")}
    assert required == {"input_subscription"}
    # the local-runner tweak is not a Dataflow parameter
    assert "local_pull_timeout_seconds" not in names


def test_the_template_parses_its_own_defaults_into_options():
    options = RiskPipelineOptions(["--input_subscription", "projects/p/subscriptions/s"])
    assert (options.window_seconds, options.early_firing_seconds, options.allowed_lateness_seconds) == (60, 5, 600)
    assert (options.id_label, options.timestamp_attribute, options.output_dataset) == (
        "event_id",
        "occurred_at",
        "risk",
    )
