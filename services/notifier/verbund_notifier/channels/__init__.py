"""The ways a message leaves: adapters behind one protocol (email over SMTP, signed webhooks)."""
