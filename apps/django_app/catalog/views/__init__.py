"""The catalog's views, one module per feature of the contract."""
