"""Use cases. Each takes its ports as arguments, opens one unit of work and commits once."""
