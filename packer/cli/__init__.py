"""prometeu-packer, the command line: the same operations and events from a terminal or CI."""
