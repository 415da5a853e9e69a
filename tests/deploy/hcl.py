"""Reads the Terraform code offline with python-hcl2, normalised to plain Python values.

python-hcl2 keeps HCL's quotes on labels and string literals and marks blocks with `__is_block__`;
`load_tf` removes both, so `"roles/x"` reads as `roles/x` and an expression stays `${…}`.
"""

from functools import cache
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TF_ROOT = ROOT / "deploy" / "terraform"
MODULES = TF_ROOT / "modules"
ENVS = TF_ROOT / "envs"
# The composition of every module into one environment; the roots in ENVS are thin callers of it.
STACK = "stack"
META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def _clean(value):
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if k not in {"__is_block__", "__comments__"}}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


@cache
def load_tf(path: Path) -> dict:
    with open(path) as handle:
        return _clean(hcl2.load(handle))


def tf_files() -> list[Path]:
    return sorted(p for p in TF_ROOT.rglob("*.tf") if ".terraform" not in p.parts)


def _merge(files: list[Path]) -> dict:
    """Top-level blocks of a directory: {"variable": {name: body}, "resource": {type: {name: body}}, …}."""
    merged: dict = {}
    for path in files:
        for block_type, entries in load_tf(path).items():
            if block_type == "locals":
                for entry in entries:
                    merged.setdefault("locals", {}).update(entry)
                continue
            if block_type in {"terraform", "moved"}:
                merged.setdefault(block_type, []).extend(entries)
                continue
            for entry in entries:
                for label, body in entry.items():
                    if block_type in {"resource", "data"}:
                        for name, inner in body.items():
                            merged.setdefault(block_type, {}).setdefault(label, {})[name] = inner
                    else:
                        merged.setdefault(block_type, {})[label] = body
    return merged


@cache
def module_blocks(name: str) -> dict:
    return _merge(sorted((MODULES / name).glob("*.tf")))


@cache
def root_blocks(env: str) -> dict:
    return _merge(sorted((ENVS / env).glob("*.tf")))


def module_names() -> list[str]:
    return sorted(p.name for p in MODULES.iterdir() if p.is_dir())


def component_names() -> list[str]:
    """The modules the stack composes (every module but the stack itself)."""
    return [name for name in module_names() if name != STACK]


def directory_blocks(directory: Path) -> dict:
    """Blocks of an environment root or of a module, by its directory."""
    return root_blocks(directory.name) if directory.parent == ENVS else module_blocks(directory.name)


def module_calls(directory: Path):
    """(call name, called module directory, arguments) for every module block of a directory."""
    for call, body in directory_blocks(directory).get("module", {}).items():
        yield call, (directory / body["source"]).resolve(), body


def callers() -> list[Path]:
    """Every directory holding module blocks: the environment roots and the stack."""
    return [*(ENVS / env for env in env_names()), MODULES / STACK]


def env_names() -> list[str]:
    return sorted(p.name for p in ENVS.iterdir() if p.is_dir())
