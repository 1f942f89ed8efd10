"""House rules about the product code's shape that a reviewer would otherwise have to count by hand."""

from __future__ import annotations

from tests.conftest import ROOT

PRODUCT_PACKAGES = ("flashflow_core", "jobs", "workers", "flashflow_console")
MAX_MODULE_LINES = 400  # the developer guide: modules short enough to read at once


def test_no_product_module_is_over_400_lines():
    long = {str(path.relative_to(ROOT)): n for package in PRODUCT_PACKAGES for path in (ROOT / package).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these by responsibility: {long}"
