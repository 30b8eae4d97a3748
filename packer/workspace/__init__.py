"""Workspace reads: walk assets/, read each anchor, reconcile with the registry into a snapshot."""
