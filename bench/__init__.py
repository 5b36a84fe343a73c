"""framework-bench: serves, loads, analyses, reports and checks the three apps."""
