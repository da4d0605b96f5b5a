"""Executing iterations: the executor, isolation in a process template, timing, thread caps,
exclusive measurement and module preloading."""
