"""JobQueue callbacks, one module per feature. Jobs only call services.

PTB's JobQueue holds no state of its own here: periodic jobs read the database on each
tick, and anything with a due time is stored in the database and rebuilt at start.
"""
