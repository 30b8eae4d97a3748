"""The doctor: hygiene checks, the doctor and its safe fixes, and the asset list and details."""
