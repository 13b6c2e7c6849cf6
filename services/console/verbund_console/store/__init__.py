"""The console's database: tables, the read model's writes and reads, and the accounts."""
