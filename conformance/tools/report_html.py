"""Allure 3's single-file report, made to load its data every time: `python -m conformance.tools.report_html DIR`.

The single-file page (allure 3.18, plugin-awesome `singleFile: true`) holds the app as one large script at the top and
the report's data in scripts at the end, which create `window.allureReportData` and fill it. The app's first data
request asks whether `window.allureReportData` exists: if it does, it waits for `allureReportDataReady` and reads the
data from the page; if not, it fetches the data as files beside the page, which do not exist next to a single file.
Which comes first is a race: on a loaded machine about one render in five showed the header and an empty tree, and
stayed so (headless Chromium, 2026-12-04; reported upstream in other forms: allure-framework/allure3 #348 and #477).

Declaring the (empty) data object before the app's script removes the race: the app always takes the single-file way
and waits for the data scripts, which keep the object and fill it. Only pages that define their data inline are
touched (the multi-file report fetches its data and must not be told otherwise); a page already changed is left as is.
Standard library only: `nox -s report` runs it with nox's own interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path

MARK = "<!-- fapi-conformance: report data declared before the app (conformance/tools/report_html.py) -->"
DECLARE = "<script>window.allureReportData = window.allureReportData || {};</script>"
# What the single-file page's own data script contains, and no multi-file index.html does (both set
# allureReportDataReady; only the single file stores data in the page).
INLINE_DATA = "allureReportData[name] = value"


def declare_data_first(html: str) -> str | None:
    """The page with the data object declared before its first script, or None when it needs no change."""
    first_script = html.find("<script")
    if MARK in html or INLINE_DATA not in html or first_script < 0:
        return None
    return html[:first_script] + MARK + DECLARE + html[first_script:]


def fix_report(report: Path) -> list[Path]:
    """Every single-file page under `report` made race-free; the pages changed."""
    changed = []
    for page in sorted(report.glob("*/index.html")):
        fixed = declare_data_first(page.read_text(encoding="utf-8"))
        if fixed is not None:
            page.write_text(fixed, encoding="utf-8")
            changed.append(page)
    return changed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m conformance.tools.report_html REPORT_DIR (the Allure report's output folder)",
              file=sys.stderr)
        return 2
    for page in fix_report(Path(args[0])):
        print(f"report: {page} declares its data before the app (Allure single-file race)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
