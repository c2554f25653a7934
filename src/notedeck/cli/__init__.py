"""The command line and what it shows: the only place that prints and picks exit codes."""
