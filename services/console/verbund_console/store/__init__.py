"""The console's database: tables, the read model's writes and reads, and the accounts."""

from . import api_tokens  # noqa: F401  (its tables belong to the console's metadata and migrations)
