-- First start of the compose PostgreSQL: the notifier keeps its own database next to the matcher's.
CREATE DATABASE verbund_notifier OWNER verbund;
