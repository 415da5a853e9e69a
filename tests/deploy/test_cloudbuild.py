"""deploy/cloudbuild.yaml: the release steps, their order, and the names they share with Terraform."""

import argparse
import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.hcl import module_blocks

ROOT = Path(__file__).resolve().parents[2]
BUILD = yaml.safe_load((ROOT / "deploy" / "cloudbuild.yaml").read_text())
STEPS = {step["id"]: step for step in BUILD["steps"]}
ORDER = [step["id"] for step in BUILD["steps"]]


def _text(step) -> str:
    return step.get("script", "") + " ".join(step.get("args", []))


def test_release_runs_test_build_push_migrate_deploy_dataflow_in_that_order():
    expected = ["test", "scan", "build", "push", "migrate", "deploy-web", "deploy-worker", "deploy-beat", "dataflow"]
    assert ORDER == expected
    # build waits for both gates; every later step waits for all before it (Cloud Build's default).
    assert set(STEPS["build"]["waitFor"]) == {"test", "scan"}
    for step in expected[3:]:
        assert "waitFor" not in STEPS[step], f"{step} must wait for every previous step"
    assert "make test" in STEPS["test"]["script"]
    assert "deploy/scan.sh" in STEPS["scan"]["script"]


def test_one_image_tagged_with_the_commit_sha_is_built_and_released_everywhere():
    assert "--tag=${_IMAGE}:${COMMIT_SHA}" in STEPS["build"]["args"]
    assert "--file=deploy/Dockerfile" in STEPS["build"]["args"]
    assert BUILD["images"] == ["${_IMAGE}:${COMMIT_SHA}"]
    for step in ("migrate", "deploy-web", "deploy-worker", "deploy-beat", "dataflow"):
        images = re.findall(r"\$\{_IMAGE\}:\$\{(\w+)\}", _text(STEPS[step]))
        assert images and set(images) == {"COMMIT_SHA"}, step
    assert not re.search(r":latest\b", _text(STEPS["migrate"]) + _text(STEPS["deploy-web"]))


def test_migrations_run_as_the_terraform_job_and_wait_for_completion():
    script = STEPS["migrate"]["script"]
    assert '"${_NAME}-migrate"' in script and "--wait" in script
    job = module_blocks("cloud_run")["resource"]["google_cloud_run_v2_job"]["migrate"]
    assert job["name"] == "${var.name}-migrate"


def test_deploy_targets_are_the_terraform_services_and_worker_pools():
    assert 'gcloud run deploy "${_NAME}-web"' in STEPS["deploy-web"]["script"]
    assert 'worker-pools deploy "${_NAME}-worker"' in STEPS["deploy-worker"]["script"]
    assert 'worker-pools deploy "${_NAME}-beat"' in STEPS["deploy-beat"]["script"]
    resources = module_blocks("cloud_run")["resource"]
    assert resources["google_cloud_run_v2_service"]["web"]["name"] == "${var.name}-web"
    assert resources["google_cloud_run_v2_worker_pool"]["celery"]["name"] == "${var.name}-${each.key}"


def test_the_build_identity_and_pipeline_names_match_terraform():
    deployer = module_blocks("stack")["resource"]["google_service_account"]["deployer"]
    assert deployer["account_id"] == "${substr(var.name, 0, 20)}-deployer"
    assert BUILD["serviceAccount"].endswith("/${_NAME}-deployer@${PROJECT_ID}.iam.gserviceaccount.com")
    pipeline_sa = module_blocks("dataflow")["resource"]["google_service_account"]["pipeline"]
    assert pipeline_sa["account_id"] == "${substr(var.name, 0, 16)}-risk-pipeline"
    script = STEPS["dataflow"]["script"]
    assert '"${_NAME:0:16}-risk-pipeline@' in script
    assert module_blocks("dataflow")["output"]["job_name"]["value"] == "${var.name}-risk-pipeline"
    assert 'JOB="${_NAME}-risk-pipeline"' in script
    assert "--update" in script and "--metadata-file dataflow/flex_template/metadata.json" in script
    assert "FLEX_TEMPLATE_PYTHON_PY_FILE=/app/deploy/dataflow_launcher.py" in script
    assert (ROOT / "deploy" / "dataflow_launcher.py").exists()


def test_pipeline_parameters_in_the_release_are_options_the_pipeline_accepts():
    pytest.importorskip("apache_beam", reason="apache-beam is installed with the pipeline's requirements")
    from dataflow.risk_pipeline.main import RiskPipelineOptions

    parser = argparse.ArgumentParser()
    RiskPipelineOptions._add_argparse_args(parser)
    accepted = {action.dest for action in parser._actions} | {"sdk_container_image", "sdk_location"}
    parameters = re.search(r'--parameters "\^;\^([^"]+)"', STEPS["dataflow"]["script"]).group(1)
    names = {pair.split("=", 1)[0] for pair in parameters.split(";")}
    assert names <= accepted, names - accepted
