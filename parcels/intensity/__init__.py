"""开发区土地集约利用评价 (SPEC §11): the survey's rules, the indicators as data, the evaluation,
the derivation of a survey from other layers, and the Chinese report (XLSX, HTML)."""

from parcels.intensity.evaluate import evaluate, indicator_values
from parcels.intensity.rules import load_indicators, load_weights, load_zone, weight_set_names
from parcels.intensity.survey import SURVEY_LAND_USES, SURVEY_STATUSES, validate_survey

__all__ = ["SURVEY_LAND_USES", "SURVEY_STATUSES", "evaluate", "indicator_values", "load_indicators", "load_weights", "load_zone", "validate_survey", "weight_set_names"]
