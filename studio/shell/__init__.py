"""The shell: the windows around the panels, and what the Studio keeps between runs."""
