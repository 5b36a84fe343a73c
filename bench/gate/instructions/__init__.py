"""Instructions per request: the gate's first mechanism (callgrind counts, steady where time is not)."""
