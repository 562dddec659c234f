"""numba kernels: arrays and scalars in, arrays and scalars out; they never
validate input (the families do). Tuning constants and compile options are in
``skmix._config``."""
