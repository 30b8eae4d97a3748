"""Shared test set-up: Qt runs offscreen; tests never touch the user's real data folders."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
