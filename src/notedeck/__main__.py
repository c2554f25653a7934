"""`python -m notedeck` runs the command line."""

from notedeck.cli import main

main()
