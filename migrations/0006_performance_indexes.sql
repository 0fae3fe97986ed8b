-- Indexes found missing by `make bench` (bench/bench_scale.py) on a state-sized database.

-- At start the sender settles rows a crash left `sending` (a few at most); without this
-- it read the whole outbox, which keeps every delivery ever made (80 ms at 340,000 rows).
CREATE INDEX outbox_sending ON outbox (id) WHERE status = 'sending';
