"""Panels: the Assets workspace, the Activity timeline and its progress bars, their dialogs."""
