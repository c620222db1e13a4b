"""parksim: how commercial banks serve industrial parks, as an agent-based model.

import parksim
scenario = parksim.load_scenario("scenarios/baseline.toml")
result = parksim.run(scenario, replications=20, seed=1, workers=2)
result.summary, result.plot_risk(), result.plot_risk_return()
parksim.resume("results/baseline/<run-id>")  # continue an interrupted run folder
parksim.compare(["results/a/<run-id>", "results/b/<run-id>"]).save()
model = parksim.ParkModel(scenario, "tier2_light", rng=1).run()
model.enterprises.to_frame()

The names below load their modules when first used, so `import parksim` is quick and
`import parksim.model` loads no plotting.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.7.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "CreditDecision": "parksim.core.codes",
    "FinanceState": "parksim.core.codes",
    "LoanStatus": "parksim.core.codes",
    "Product": "parksim.core.codes",
    "Stage": "parksim.core.codes",
    "ParkModel": "parksim.model",
    "Comparison": "parksim.results",
    "RunResult": "parksim.results",
    "compare": "parksim.results",
    "resume": "parksim.results",
    "run": "parksim.results",
    "RunIncomplete": "parksim.ensemble.runner",
    "ScenarioError": "parksim.scenario.errors",
    "load_scenario": "parksim.scenario.loader",
    "Scenario": "parksim.scenario.schema",
    "Strategy": "parksim.scenario.schema",
}

__all__ = sorted(["__version__", *_EXPORTS])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parksim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
