"""What runs around the stages, one concern a module: the Prefect API and the life of the
local server behind it (`prefect_api`), the one-run-per-cycle lock (`lock`), the database
schema and its migrations (`schema`), and what a run shows while it works (`progress`)."""
