"""parksim: how commercial banks serve industrial parks, as an agent-based model.

import parksim
scenario = parksim.load_scenario("scenarios/baseline.toml")
result = parksim.run(scenario, replications=20, seed=1)
result.summary, result.plot_risk()
model = parksim.ParkModel(scenario, "tier2_light", rng=1).run()
model.enterprises.to_frame()
"""

__version__ = "0.1.0"

from parksim.model import ParkModel
from parksim.results import RunResult
from parksim.runner import run
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario
from parksim.scenario.schema import Scenario, Strategy

__all__ = [
    "ParkModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "__version__",
    "load_scenario",
    "run",
]
