"""`python -m notedeck` runs the command line."""

from notedeck.cli.commands import main

main()
