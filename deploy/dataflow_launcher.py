"""Entry point of the risk pipeline's Flex Template and of the image's `beam` role.

The Flex Template launcher runs a *file*, and dataflow/risk_pipeline/main.py uses package-relative
imports, so this file imports it as a package. It submits the streaming job and returns without
waiting: a launcher that blocks on a streaming job never finishes launching.
"""

import logging
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from dataflow.risk_pipeline.main import RiskPipelineOptions, build


def launch(argv: list[str]) -> beam.runners.runner.PipelineResult:
    options = PipelineOptions(argv)
    options.view_as(StandardOptions).streaming = True
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(RiskPipelineOptions))
    return pipeline.run()


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    result = launch(sys.argv[1:])
    logging.info("risk_pipeline.submitted state=%s", getattr(result, "state", "unknown"))
