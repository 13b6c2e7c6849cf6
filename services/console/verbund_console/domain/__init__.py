"""The console's rules without I/O: how events fold into the read model, and what each page shows."""
