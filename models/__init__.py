"""Analysis models as data: lexicons, playbooks, scoring profiles and the weights manifest.

Installed as ``callscan.models``; read with :func:`callscan.resources.load_data`.
"""
