"""The carrier partner REST API (v1, DESIGN §6): one view per operation."""
