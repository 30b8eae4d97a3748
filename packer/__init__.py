"""PROMETEU packer: scans an asset workspace, diagnoses it, mutates it safely, builds assets.pa.

Plain Python: this package never imports Qt or the Studio (tests/packer/test_import_fence.py).
"""

__version__ = "0.1.0"
