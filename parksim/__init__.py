"""parksim: how commercial banks serve industrial parks, as an agent-based model.

import parksim
scenario = parksim.load_scenario("scenarios/baseline.toml")
result = parksim.run(scenario, replications=20, seed=1, workers=2)
result.summary, result.plot_risk(), result.plot_risk_return()
parksim.resume("results/baseline/<run-id>")  # continue an interrupted run folder
parksim.compare(["results/a/<run-id>", "results/b/<run-id>"]).save()
model = parksim.ParkModel(scenario, "tier2_light", rng=1).run()
model.enterprises.to_frame()
"""

__version__ = "0.4.1"

# First: it points numba's cache at this source version's folder, and numba binds a
# kernel's cache when the kernel is decorated, at its module's import.
import parksim.core.jit  # noqa: F401
from parksim.core.codes import CreditDecision, FinanceState, LoanStatus, Stage
from parksim.ensemble.runner import RunIncomplete, resume, run
from parksim.model import ParkModel
from parksim.results import Comparison, RunResult, compare
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario
from parksim.scenario.schema import Scenario, Strategy

__all__ = [
    "Comparison",
    "CreditDecision",
    "FinanceState",
    "LoanStatus",
    "ParkModel",
    "RunIncomplete",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Stage",
    "Strategy",
    "__version__",
    "compare",
    "load_scenario",
    "resume",
    "run",
]
