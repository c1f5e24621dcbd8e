"""``python -m callscan`` runs the command line."""

from callscan.cli.app import main

main()
