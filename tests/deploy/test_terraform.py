"""Offline checks of deploy/terraform: providers cannot be downloaded here, so `terraform validate`
cannot run. These catch what it would, and a few things it would not."""

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.hcl import (
    ENVS,
    META_ARGUMENTS,
    MODULES,
    ROOT,
    STACK,
    TF_ROOT,
    callers,
    component_names,
    directory_blocks,
    env_names,
    load_tf,
    module_blocks,
    module_calls,
    module_names,
    root_blocks,
    tf_files,
)

EXPECTED_MODULES = {
    "cloudsql",
    "pubsub_settlement",
    "bigquery_risk",
    "cloud_run",
    "memorystore",
    "dataflow",
    "security",
    "observability",
}
SCHEMA_DIR = ROOT / "dataflow" / "risk_pipeline" / "schemas"


STACK_DIR = MODULES / STACK
# What an environment root may decide; everything else is the stack's.
ENVIRONMENT_INPUTS = {
    "environment",
    "name",
    "cloudsql_tier",
    "cloudsql_availability_type",
    "cloudsql_max_connections",
    "redis_tier",
    "web_min_instances",
    "web_max_instances",
    "worker_instances",
    "deletion_protection",
    "waf_preview",
}


def _label(directory: Path) -> str:
    return f"{directory.parent.name}/{directory.name}"


def _module_calls():
    """(caller, call name, module name, arguments) for every module block of the roots and the stack."""
    for directory in callers():
        for call, target, body in module_calls(directory):
            assert target.parent == MODULES.resolve() and target.is_dir(), f"{_label(directory)}.{call}: {target}"
            yield _label(directory), call, target.name, body


def test_every_concern_has_a_module_the_stack_composes_them_all_and_each_environment_calls_the_stack():
    assert EXPECTED_MODULES <= set(component_names())
    assert {"dev", "staging"} <= set(env_names())
    used = {target.name for _, target, _ in module_calls(STACK_DIR)}
    assert used == set(component_names()), f"the stack does not use {set(component_names()) - used}"
    for env in env_names():
        calls = [(call, target) for call, target, _ in module_calls(ENVS / env)]
        assert calls == [("stack", STACK_DIR.resolve())], f"{env} must call only modules/{STACK}: {calls}"
        root = root_blocks(env)
        # Thin: no resources, data sources or locals of its own — a root that grows them drifts apart.
        own = {"resource", "data", "locals"} & set(root)
        assert not own, f"{env} defines {own}"


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(TF_ROOT)))
def test_every_tf_file_parses(path):
    assert isinstance(load_tf(path), dict)


@pytest.mark.parametrize(
    "directory",
    [*(MODULES / m for m in module_names()), *(ENVS / e for e in env_names())],
    ids=_label,
)
def test_every_variable_has_a_type_and_a_description(directory):
    blocks = directory_blocks(directory)
    variables = blocks.get("variable", {})
    assert variables, f"{directory} declares no variables"
    for name, body in variables.items():
        assert body.get("type"), f"{directory.name}: variable {name} has no type"
        assert len(body.get("description", "")) >= 10, f"{directory.name}: variable {name} has no useful description"
        for rule in body.get("validation", []):
            assert rule.get("condition") and rule.get("error_message"), f"{name}: validation without message"


@pytest.mark.parametrize("module", module_names())
def test_every_module_has_described_outputs_and_validated_inputs(module):
    blocks = module_blocks(module)
    outputs = blocks.get("output", {})
    assert outputs, f"{module} has no outputs"
    for name, body in outputs.items():
        assert body.get("description"), f"{module}: output {name} has no description"
    validated = [name for name, body in blocks["variable"].items() if body.get("validation")]
    assert validated, f"{module} validates none of its variables"


def test_module_inputs_passed_by_the_roots_exist_and_required_ones_are_passed():
    problems = []
    for env, call, module, body in _module_calls():
        declared = module_blocks(module)["variable"]
        passed = set(body) - META_ARGUMENTS
        required = {name for name, spec in declared.items() if "default" not in spec}
        problems += [f"{env}.{call}: unknown input {name}" for name in sorted(passed - set(declared))]
        problems += [f"{env}.{call}: missing required input {name}" for name in sorted(required - passed)]
    assert not problems, "\n".join(problems)


def test_module_outputs_referenced_by_the_roots_and_the_stack_exist():
    problems = []
    for directory in callers():
        calls = {call: target.name for call, target, _ in module_calls(directory)}
        text = "\n".join(p.read_text() for p in directory.glob("*.tf"))
        for call, output in set(re.findall(r"module\.([a-z_]+)\.([a-z_]+)", text)):
            if call not in calls:
                problems.append(f"{_label(directory)}: module.{call} is not declared")
            elif output not in module_blocks(calls[call]).get("output", {}):
                problems.append(f"{_label(directory)}: module.{call}.{output} is not an output of {calls[call]}")
    assert not problems, "\n".join(problems)


def test_variable_and_local_references_are_declared():
    problems = []
    for directory in [*(MODULES / m for m in module_names()), *(ENVS / e for e in env_names())]:
        blocks = directory_blocks(directory)
        text = "\n".join(p.read_text() for p in directory.glob("*.tf"))
        used = set(re.findall(r"\bvar\.([a-z_0-9]+)", text))
        problems += [f"{_label(directory)}: var.{name}" for name in sorted(used - set(blocks.get("variable", {})))]
        declared_locals = set(blocks.get("locals", {}))
        problems += [
            f"{_label(directory)}: local.{name}"
            for name in sorted(set(re.findall(r"\blocal\.([a-z_0-9]+)", text)) - declared_locals)
        ]
    assert not problems, "undeclared references:\n" + "\n".join(problems)


def _stack_call(env: str) -> dict:
    return root_blocks(env)["module"]["stack"]


def test_environments_pass_only_their_sizes_and_installation_values_to_the_same_stack():
    stack_variables = module_blocks(STACK)["variable"]
    installation = set(stack_variables) - ENVIRONMENT_INPUTS
    assert ENVIRONMENT_INPUTS <= set(stack_variables)
    for env in env_names():
        call, variables = _stack_call(env), root_blocks(env)["variable"]
        # Every environment decision is written in the root, as a literal: reviewable in one file.
        for name in ENVIRONMENT_INPUTS:
            assert name in call and "${" not in str(call[name]), f"{env}: {name} must be a literal"
        assert call["environment"] == env and call["name"] == f"fusionprime-{env}", env
        # Installation values (terraform.tfvars) pass straight through under the same name.
        assert set(variables) == installation, f"{env}: {set(variables) ^ installation}"
        for name in installation:
            assert call.get(name) == f"${{var.{name}}}", f"{env}: {name} must be var.{name}"
    dev, staging = _stack_call("dev"), _stack_call("staging")
    assert set(dev) == set(staging)
    assert root_blocks("dev")["variable"] == root_blocks("staging")["variable"]
    assert staging["cloudsql_availability_type"] == "REGIONAL" and staging["redis_tier"] == "STANDARD_HA"
    assert staging["deletion_protection"] is True and staging["waf_preview"] is False
    assert staging["web_min_instances"] >= 1


def test_the_stack_enforces_the_connection_budget_at_plan_time():
    budget = module_blocks(STACK)["resource"]["terraform_data"]["connection_budget"]
    condition = budget["lifecycle"][0]["precondition"][0]["condition"]
    assert "module.cloud_run.max_database_connections" in condition
    assert "var.cloudsql_max_connections" in condition


# --- BigQuery: the schema comes from the pipeline's single source -------------------------------
def test_bigquery_tables_are_built_from_the_repository_schema_source():
    blocks = module_blocks("bigquery_risk")
    table = blocks["resource"]["google_bigquery_table"]["tables"]
    locals_ = blocks["locals"]
    # the tables, schemas, partitioning and clustering are all read from tables.json and its files
    assert "dataflow/risk_pipeline/schemas" in locals_["schema_dir"]
    assert locals_["manifest"] == '${jsondecode(file("${local.schema_dir}/tables.json"))}'
    assert table["for_each"] == "${local.tables}"
    assert table["schema"] == '${file("${local.schema_dir}/${each.value.schema}")}'
    assert "each.value.clustering" in table["clustering"]
    assert "each.value.time_partitioning" in table["dynamic"][0]["time_partitioning"]["for_each"]


def test_the_default_and_the_stacks_schema_dir_resolve_to_the_schema_source():
    default = (MODULES / "bigquery_risk" / "../../../../dataflow/risk_pipeline/schemas").resolve()
    assert default == SCHEMA_DIR.resolve()
    stack = module_blocks(STACK)
    assert stack["module"]["bigquery_risk"]["schema_dir"] == "${local.schema_dir}"
    relative = stack["locals"]["schema_dir"]
    # path.module, not path.root: the stack is called from envs/<env>, the path must not depend on it.
    assert relative.startswith("${path.module}/"), relative
    assert (STACK_DIR / relative.replace("${path.module}/", "")).resolve() == SCHEMA_DIR.resolve()


def test_the_schema_source_has_every_table_the_pipeline_and_terraform_need():
    manifest = json.loads((SCHEMA_DIR / "tables.json").read_text())
    assert {"portfolio_exposures", "settlement_events", "dead_letter"} <= set(manifest["tables"])
    for name, spec in manifest["tables"].items():
        fields = json.loads((SCHEMA_DIR / spec["schema"]).read_text())
        assert fields and all({"name", "type"} <= set(f) for f in fields), name
        if "time_partitioning" in spec:
            assert spec["time_partitioning"]["field"] in {f["name"] for f in fields}, name
        assert set(spec.get("clustering", [])) <= {f["name"] for f in fields}, name


def test_no_second_copy_of_a_bigquery_schema_lives_under_deploy():
    table_fields = {
        json.dumps(json.loads(p.read_text()), sort_keys=True)
        for p in SCHEMA_DIR.glob("*.json")
        if p.name != "tables.json"
    }
    for path in (ROOT / "deploy").rglob("*.json"):
        try:
            content = json.dumps(json.loads(path.read_text()), sort_keys=True)
        except ValueError:
            continue
        assert content not in table_fields, f"{path} duplicates a BigQuery schema"
    for path in (ROOT / "deploy").rglob("*.tf"):
        assert '"NUMERIC"' not in path.read_text(), f"{path} spells out BigQuery columns"


# --- Cloud Run: env names match what the settings read ------------------------------------------
ENV_READERS = {
    "env",
    "str",
    "bool",
    "int",
    "float",
    "list",
    "db",
    "db_url",
    "cache",
    "cache_url",
    "path",
    "email_url",
    "url",
    "json",
    "dict",
    "tuple",
}
# Read by the platform or the image, not by Django settings; each with the reader named.
PLATFORM_ENV = {
    "DJANGO_SETTINGS_MODULE",  # manage.py / wsgi.py / celery.py (set in deploy/Dockerfile)
}


def settings_env_names() -> dict[str, bool]:
    """Every env var the settings read → whether it has a default (parsed, not imported)."""
    names: dict[str, bool] = {}
    for path in sorted((ROOT / "fusionprime" / "settings").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
                and func.attr in ENV_READERS
            )
            if is_env and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                has_default = any(k.arg == "default" for k in node.keywords) or len(node.args) > 1
                name = node.args[0].value
                # A name read without a default anywhere (e.g. production.py) is required.
                names[name] = names.get(name, True) and has_default
    return names


def deploy_env_names() -> set[str]:
    """Env vars read by the image's own scripts (entrypoint.sh, gunicorn.conf.py)."""
    entry = (ROOT / "deploy" / "entrypoint.sh").read_text()
    gunicorn = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", entry)) | set(
        re.findall(r"os\.environ\.get\(\"([A-Z][A-Z0-9_]*)\"", gunicorn)
    )


def _names(value) -> set[str]:
    if isinstance(value, dict):
        return set(value)
    return set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", value))


def cloud_run_env() -> tuple[set[str], set[str]]:
    """What the stack sets on Cloud Run: the roots cannot add to it (they pass no env)."""
    stack = module_blocks(STACK)
    module = module_blocks("cloud_run")
    assert stack["module"]["cloud_run"]["env"] == "${local.app_env}"
    assert stack["module"]["cloud_run"]["secret_env"] == "${local.app_secret_env}"
    plain = _names(stack["locals"]["app_env"])
    secret = _names(stack["locals"]["app_secret_env"])
    role_env = module["locals"]["role_env"]
    plain |= {name for role in role_env.values() for name in _names(role)}
    return plain, secret


def test_settings_env_parser_finds_known_names():
    names = settings_env_names()
    assert names["DJANGO_SECRET_KEY"] is False
    assert names["DJANGO_ALLOWED_HOSTS"] is False  # required by production.py
    assert names["LOG_LEVEL"] is True
    assert "PUBSUB_TOPIC_SETTLEMENT_EVENTS" in names


def test_cloud_run_env_names_are_read_by_the_settings():
    plain, secret = cloud_run_env()
    known = set(settings_env_names()) | deploy_env_names() | PLATFORM_ENV
    unknown = (plain | secret) - known
    assert not unknown, f"Cloud Run sets variables nothing reads: {sorted(unknown)}"
    assert not plain & secret, f"set both plain and from Secret Manager: {plain & secret}"


def test_every_setting_production_requires_is_provided():
    plain, secret = cloud_run_env()
    required = {name for name, has_default in settings_env_names().items() if not has_default}
    missing = required - plain - secret
    assert not missing, f"production needs {sorted(missing)} but Cloud Run does not set them"


def test_secrets_come_from_secret_manager_never_plain_env():
    plain, secret = cloud_run_env()
    for name in (
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "WEBHOOKS_SECRET_KEY",
        "EMAIL_URL",
        "SENTRY_DSN",
    ):
        assert name not in plain, f"{name} must come from Secret Manager"
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "WEBHOOKS_SECRET_KEY"} <= secret
    locals_ = module_blocks(STACK)["locals"]
    secrets = locals_["secrets"]
    secret_ids = set(re.findall(r"\b([a-z][a-z0-9-]+)\s*=\s*\{", secrets)) if isinstance(secrets, str) else set()
    values = locals_["app_secret_env"]
    used = set(re.findall(r'=\s*"([a-z][a-z0-9-]+)"', values)) if isinstance(values, str) else set(values.values())
    assert used <= secret_ids, f"secret_env names secrets that are not created: {used - secret_ids}"


def test_no_literal_secret_in_terraform():
    pattern = re.compile(r'(password|secret_data|auth_string|api_key)\s*=\s*"[^$"][^"]*"', re.IGNORECASE)
    for path in tf_files():
        assert not pattern.search(path.read_text()), f"{path} contains a literal secret"


# --- Pub/Sub and the pipeline -------------------------------------------------------------------
def test_pubsub_names_default_to_the_app_settings():
    variables = module_blocks("pubsub_settlement")["variable"]
    names = settings_env_names()
    base = (ROOT / "fusionprime" / "settings" / "base.py").read_text()
    for variable, setting in [
        ("settlement_topic", "PUBSUB_TOPIC_SETTLEMENT_EVENTS"),
        ("chain_topic", "PUBSUB_TOPIC_CHAIN_EVENTS"),
        ("pipeline_subscription", "PUBSUB_PIPELINE_SUBSCRIPTION"),
    ]:
        assert setting in names
        assert f'env("{setting}", default="{variables[variable]["default"]}")' in base


def test_the_pipeline_subscription_is_ordered_and_dead_lettered():
    subscription = module_blocks("pubsub_settlement")["resource"]["google_pubsub_subscription"]["pipeline"]
    assert subscription["enable_message_ordering"] is True
    assert subscription["dead_letter_policy"][0]["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    assert subscription["expiration_policy"][0]["ttl"] == ""


def test_dataflow_job_parameters_are_options_the_pipeline_accepts():
    pytest.importorskip("apache_beam", reason="apache-beam is installed with the pipeline's requirements")
    import argparse

    from dataflow.risk_pipeline.main import RiskPipelineOptions

    parser = argparse.ArgumentParser()
    RiskPipelineOptions._add_argparse_args(parser)
    accepted = {action.dest for action in parser._actions}
    job = module_blocks("dataflow")["resource"]["google_dataflow_flex_template_job"]["risk"]
    assert set(job["parameters"]) <= accepted, set(job["parameters"]) - accepted
    metadata = json.loads((ROOT / "dataflow" / "flex_template" / "metadata.json").read_text())
    assert {p["name"] for p in metadata["parameters"]} <= accepted
    assert job["max_workers"] == "${var.max_workers}" and job["autoscaling_algorithm"] == "THROUGHPUT_BASED"
    variables = module_blocks("dataflow")["variable"]
    assert (variables["min_workers"]["default"], variables["max_workers"]["default"]) == (2, 10)


def test_beat_runs_as_exactly_one_instance():
    pools = module_blocks("cloud_run")["resource"]["google_cloud_run_v2_worker_pool"]["celery"]
    assert pools["for_each"] == {"worker": "${var.worker_instances}", "beat": 1}
    assert pools["scaling"][0]["manual_instance_count"] == "${each.value}"


def test_connection_budget_fits_at_the_environment_sizes():
    for env in env_names():
        sizes = _stack_call(env)
        module_defaults = module_blocks("cloud_run")["variable"]
        web = (
            sizes["web_max_instances"]
            * module_defaults["gunicorn_workers"]["default"]
            * module_defaults["gunicorn_threads"]["default"]
        )
        workers = sizes["worker_instances"] * module_defaults["worker_concurrency"]["default"]
        assert web + workers + 2 + 10 <= sizes["cloudsql_max_connections"], env


# --- terraform fmt ------------------------------------------------------------------------------
def test_terraform_fmt_is_clean():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform CLI is not installed on this machine; `terraform fmt -check` cannot run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TF_ROOT)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_the_example_tfvars_set_only_and_all_required_root_variables(env):
    example = set(load_tf(ENVS / env / "terraform.tfvars.example"))
    variables = root_blocks(env)["variable"]
    required = {name for name, spec in variables.items() if "default" not in spec}
    assert example <= set(variables), f"{env}: example sets undeclared {sorted(example - set(variables))}"
    assert required <= example, f"{env}: example misses required {sorted(required - example)}"
