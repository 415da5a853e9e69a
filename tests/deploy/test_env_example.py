import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_variable_the_settings_read_is_documented_in_env_example():
    read = set()
    for path in [*(ROOT / "fusionprime" / "settings").glob("*.py"), ROOT / "fusionprime" / "env.py"]:
        text = path.read_text()
        read |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_][A-Z0-9_]*)"', text))
        read |= set(re.findall(r'os\.environ\.setdefault\("([A-Z_][A-Z0-9_]*)"', text))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= read  # the scan itself works
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
