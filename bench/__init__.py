"""framework-bench: runs the three apps under load (run/), reports a saved run (report/) and gates changes
(gate/); the command line (cli/) ties them together."""
