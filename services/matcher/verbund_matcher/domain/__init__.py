"""Network state as events build it, and its translation into a planning problem."""
