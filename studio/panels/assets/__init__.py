"""The Assets workspace: navigator and details of the project's assets."""
