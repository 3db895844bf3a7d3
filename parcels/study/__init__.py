"""The expansion-planning study (扩区研究, SPEC §7).

Modules, one job each:
- `scenario`: the editable TOML scenario (targets of Table 1, 亩均 assumptions, suitability
  weights), validated with Chinese messages;
- `demand`: the demand methods side by side (revenue, 专栏 3–8 projects, investment ÷ 投资强度, enterprises);
- `balance`: pure land-balance arithmetic, demand in 亩 against supply, each piece of land once;
- `suitability`: criteria rasters → weighted overlay (hard exclusions burnt in) → blocks → ranking;
- `takeover`: buildable land of the candidate units, grown from the zone to the gross need;
- `package`: the frames, layers and report content of the study package (file writing stays at
  the edge, in `package.write_package`).
"""

from parcels.study.scenario import Scenario, ScenarioError, DEFAULT_SCENARIO, load_scenario, parse_scenario

__all__ = ["Scenario", "ScenarioError", "DEFAULT_SCENARIO", "load_scenario", "parse_scenario"]
