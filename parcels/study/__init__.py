"""The expansion-planning study (扩区研究, SPEC §7).

Modules, one job each:
- `scenario`: the editable TOML scenario (targets of Table 1, 亩均 assumptions, suitability
  weights), validated with Chinese messages;
- `balance`: pure land-balance arithmetic, demand in 亩 against supply;
- `suitability`: criteria rasters → weighted overlay → candidate blocks → ranking;
- `package`: the frames, layers and report content of the study package (file writing stays at
  the edge, in `package.write_package`).
"""

from parcels.study.scenario import Scenario, ScenarioError, DEFAULT_SCENARIO, load_scenario, parse_scenario

__all__ = ["Scenario", "ScenarioError", "DEFAULT_SCENARIO", "load_scenario", "parse_scenario"]
