"""The catalog app: the benchmark tables, the items API, the HTML pages and the admin."""
