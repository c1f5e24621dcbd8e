"""callscan's command line (installed as ``callscan.cli``): a thin Typer layer over the library."""
