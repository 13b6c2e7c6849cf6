"""What every Verbund service runs on and none owns: probes and metrics over HTTP, logs, migrations, AsyncAPI."""
