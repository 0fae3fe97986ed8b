"""Domain logic. Nothing in this package imports `telegram`."""
