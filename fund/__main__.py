"""`python -m fund …` is the `fund` command."""

from fund.cli import main

main()
