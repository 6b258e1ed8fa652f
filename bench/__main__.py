"""Run every benchmark: `python -m bench` (from the repository root, in the project's environment)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    browser_navigation,
    catalog_cost,
    gateway_overhead,
    guardrail_scan,
    page_cost,
    portfolio,
    prompt_search,
    sandbox_overhead,
    template_fork,
    templates_page,
    training_dashboard,
    usage_dashboard,
)

BENCHMARKS = {
    "gateway overhead": gateway_overhead.run,
    "sandbox overhead": sandbox_overhead.run,
    "guardrail scan": guardrail_scan.run,
    "page cost": page_cost.run,
    "catalog cost": catalog_cost.run,
    "usage dashboard": usage_dashboard.run,
    "prompt search": prompt_search.run,
    "template fork": template_fork.run,
    "templates page": templates_page.run,
    "training dashboard": training_dashboard.run,
    "portfolio": portfolio.run,
    "browser navigation": browser_navigation.run,
}


def main() -> int:
    for name, run in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
