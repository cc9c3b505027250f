import sys
from pathlib import Path

# the runtime package itself (bindings-python/coolbpf), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json
import os
from typing import Any

import pytest

_REPORT: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One entry per test for packages/conformance/python-runtime.test.ts ($COOLBPF_PYTEST_REPORT)."""
    e = _REPORT.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed", "message": ""})
    if report.skipped:
        e["outcome"] = "skipped"
        lr = report.longrepr
        e["message"] = str(lr[2]) if isinstance(lr, tuple) else str(lr)
    elif report.failed:
        e["outcome"] = "failed"
        e["message"] = report.longreprtext[-6000:]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("COOLBPF_PYTEST_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump({"tests": list(_REPORT.values())}, f, indent=1)
