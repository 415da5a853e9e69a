"""`make bench`: every benchmark in its own process (each sets up its own database and servers)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ["bench_api", "bench_publisher", "bench_webhooks", "bench_relayer", "bench_pipeline"]


def main() -> int:
    selected = sys.argv[1:] or [name for name in ORDER if (HERE / f"{name}.py").exists()]
    failed = []
    for name in selected:
        print(f"\n=== {name} ===", flush=True)
        if importlib.util.find_spec(f"tests.benchmarks.{name}") is None:
            print("missing")
            failed.append(name)
            continue
        if subprocess.run([sys.executable, "-m", f"tests.benchmarks.{name}"]).returncode != 0:
            failed.append(name)
    results = HERE.parents[1] / "var" / "bench"
    print("\n=== summary (var/bench/*.json) ===")
    for path in sorted(results.glob("*.json")):
        print(path.name, json.dumps(json.loads(path.read_text()), separators=(",", ":"))[:400])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
