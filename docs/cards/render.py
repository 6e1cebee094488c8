"""Renders every card kind to PNGs under docs/cards/ with Microsoft's Adaptive Cards JavaScript
renderer and Teams' own light and dark host configs, in headless Chromium (a developer tool).

The cards are the reviewed snapshots in tests/cards/snapshots/ (one per kind, below), so the
images show exactly what the snapshot tests pin down. Needs Node.js with this folder's packages
(`npm ci` here: the official `adaptivecards` renderer and `puppeteer-core`) and a Chromium
(Debian: `apt-get install chromium`). Not part of `make test`.

    python docs/cards/render.py                       # every kind, light and dark, 500 and 360 px
    python docs/cards/render.py --only digest bill-new --widths 360
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SNAPSHOTS = ROOT / "tests" / "cards" / "snapshots"
HOST_CONFIGS = ROOT / "tests" / "fixtures" / "hostconfig"

# image name → snapshot: one of each card kind, in the states an AP manager meets most.
KINDS = {
    "bill-new": "bill_created_pending",
    "bill-overdue": "bill_overdue_pending",
    "bill-partially-paid": "bill_partially_paid",
    "bill-paid": "bill_paid",
    "bill-declined": "bill_declined_overdue",
    "bill-jpy": "bill_created_jpy",
    "bill-detail": "bill_detail",
    "pending-bills": "pending_bills",
    "pending-bills-none": "pending_bills_empty",
    "due-this-week": "due_this_week",
    "payment-pending": "payment_pending_approval",
    "payment-confirmed": "payment_confirmed",
    "payments-pending": "payments_pending",
    "vendor-on-hold": "vendor_put_on_hold",
    "vendor": "vendor_card",
    "digest": "digest",
    "digest-empty": "digest_empty",
    "summary": "summary_more_than_listed",
    "status": "status",
    "subscriptions": "subscriptions",
    "help-not-understood": "help_unknown_command",
    "welcome": "welcome",
    "link-not-known": "link_not_known",
    "alert-polling-failed": "alert_polling_failed",
    "alert-recovered": "alert_polling_recovered",
}

# Teams draws a channel around the card: light grey behind white cards, near-black behind dark ones.
THEMES = {
    "light": {"hostConfig": str(HOST_CONFIGS / "microsoft-teams-light.json"), "page": "#f5f5f5"},
    "dark": {"hostConfig": str(HOST_CONFIGS / "microsoft-teams-dark.json"), "page": "#1f1f1f"},
}


def main(argv: list[str] | None = None) -> int:
    """Render the chosen kinds; returns the node script's exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(KINDS), help="kinds to render (default: all)")
    parser.add_argument("--widths", nargs="*", type=int, default=[500, 360], help="card widths in px")
    parser.add_argument("--themes", nargs="*", choices=sorted(THEMES), default=sorted(THEMES))
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs go (default: docs/cards)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args(argv)
    if not (HERE / "node_modules" / "adaptivecards").is_dir():
        print(f"run `npm ci` in {HERE} first (installs the renderer)", file=sys.stderr)
        return 2
    kinds = args.only or list(KINDS)
    cards = [{"name": kind, "card": json.loads((SNAPSHOTS / f"{KINDS[kind]}.json").read_text(encoding="utf-8"))} for kind in kinds]
    job = {
        "chromium": args.chromium,
        "outDir": str(args.out.resolve()),
        "widths": args.widths,
        "themes": {theme: THEMES[theme] for theme in args.themes},
        "cards": cards,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(job, handle)
    try:
        return subprocess.run(["node", str(HERE / "render.mjs"), handle.name], cwd=HERE).returncode
    finally:
        Path(handle.name).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
