"""checkov over deploy/ and bandit over the Python code, as CI runs them (deploy/scan.sh).

The scanners are installed by scan.sh into their own virtualenv (.venv-checkov) on first use, from
PyPI, so a fresh CI clone gets them too (about 70 s once; the scans take about 15-25 s)."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN = ROOT / "deploy" / "scan.sh"
SCAN_VENV = ROOT / ".venv-checkov"


@pytest.fixture(scope="module")
def scan_result():
    return subprocess.run(["bash", str(SCAN)], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_checkov_and_bandit_pass_on_the_repository(scan_result):
    assert scan_result.returncode == 0, scan_result.stdout[-6000:] + scan_result.stderr[-3000:]
    assert "scans passed" in scan_result.stdout


def test_every_checkov_suppression_names_a_check_and_says_why():
    pattern = re.compile(r"checkov:skip=([A-Z0-9_]*)(?::(.*))?")
    found = 0
    scanned = [*(ROOT / "deploy").rglob("*.tf"), ROOT / "deploy" / "Dockerfile"]
    for path in scanned:
        if ".terraform" in path.parts:
            continue
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            for check, reason in pattern.findall(line):
                found += 1
                assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", check), f"{path}:{number}: bad check id {check!r}"
                assert len(reason.strip()) >= 20, f"{path}:{number}: {check} is suppressed without a reason"
    assert found, "expected the known, justified suppressions"


def test_the_scanners_fail_on_insecure_code(scan_result, tmp_path):
    # given an insecure module and insecure Python (the scan venv exists after scan_result)
    (tmp_path / "main.tf").write_text(
        'resource "google_storage_bucket" "open" {\n  name     = "x"\n  location = "EU"\n}\n'
        'resource "google_storage_bucket_iam_member" "public" {\n  bucket = "x"\n'
        '  role   = "roles/storage.objectViewer"\n  member = "allUsers"\n}\n'
    )
    (tmp_path / "bad.py").write_text("import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")

    checkov = subprocess.run(
        [
            str(SCAN_VENV / "bin" / "checkov"),
            "--directory",
            str(tmp_path),
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    bandit = subprocess.run(
        [str(SCAN_VENV / "bin" / "bandit"), "--quiet", "-r", str(tmp_path), "--severity-level", "high"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then both fail, naming what is wrong
    assert checkov.returncode != 0 and "CKV_GCP_" in checkov.stdout
    assert bandit.returncode != 0 and "B602" in bandit.stdout
