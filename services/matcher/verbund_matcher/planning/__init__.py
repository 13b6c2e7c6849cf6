"""Pure planning core: problem in, plan out; no I/O, no framework, no database."""
