"""fund: runs a district's public-benefit venture fund (公益创投) cycle, from the call for
proposals to the leadership report.

    fund.schemas   every stored entity, its CSV columns and its quality suite, defined once
    fund.tasks     the work, as plain functions the tests call without Prefect
    fund.flows     thin Prefect flows, one per stage, and the cycle flow
    fund.runtime   what runs around them: the local Prefect server, locks, migrations
    fund.cli       the `fund` command
    fund.data      the bundled demo cycle and the generator of bigger ones
"""
