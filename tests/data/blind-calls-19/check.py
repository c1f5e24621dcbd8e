#!/usr/bin/env python3
"""Validate the nineteenth blind set: the second set's checker (same formats and rules), run on
this folder. Standard library only. ``python3 tests/data/blind-calls-19/check.py``"""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ["BLIND_SET_DIR"] = HERE
sys.argv[0] = __file__
runpy.run_path(os.path.join(HERE, os.pardir, "blind-calls-2", "check.py"), run_name="__main__")
