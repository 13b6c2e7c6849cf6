"""The notifier's service layer: consumed events applied one transaction each, delivery, reminders and digests."""
