"""The service layer: read the store, apply a pure `parcels` rule, write or render the answer.

One module per job (study, …); the edges — `api` routers, CLI commands, served maps — call
these functions and stay thin, so the command line, HTTP and the maps cannot drift apart in what
they check, which layers they read or which fallbacks they take. Services import `gis` and
`parcels` (and `maps` builders); nothing here imports `api`.
"""
