"""Who is told what, when and in which language: message composition from plain data, no I/O."""
