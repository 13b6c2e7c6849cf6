"""The console's consumers: events from the topics into the read model, and news of each change to the live pages."""
