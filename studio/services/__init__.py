"""Services: run packer work on worker threads and carry its events to the GUI thread."""
