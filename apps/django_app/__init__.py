"""The Django implementation of the framework-bench contract (docs/contract.md)."""
