"""Persistence of the matcher: tables, engine, migrations, and the network repository."""
