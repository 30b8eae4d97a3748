"""Prometeu Studio: the PySide6 desktop application on top of the packer."""
