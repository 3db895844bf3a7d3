"""The land supply ledger and its supervision (SPEC §4.2, 批供用补查): pure domain functions.

`rules` (the TOML of parcels/rules/supply/), `methods` (which supply method a use allows),
`ledger` (validation of an import or edit), `supervise` (the report as of a day), `conflicts`
(land supplied twice), `report` (XLSX 台账 and the HTML report). Kept free of imports here so
`parcels.workflow` can use `methods` without loading the rest.
"""
