"""fapi-conformance: a contract conformance suite for the ZTDX USDⓈ-M futures REST API."""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
REPORTS = ROOT / "reports"
