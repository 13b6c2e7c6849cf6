"""The matcher's service layer: one unit of work per batch, replanning, publishing through the outbox."""
