-- Helper for actor_daily_context: each daily_signals row with its day as a whole number, so that
-- rolling windows can count days (range between n preceding). This is the one place the dialects
-- differ there: SQLite has no date arithmetic (julianday), PostgreSQL subtracts dates; see
-- _signal_day_numbers.postgresql.sql. Views whose names start with "_" are building blocks.
select
    ds.actor,
    ds.day,
    cast(julianday(ds.day) - 2440587.5 as integer) as day_number,
    ds.articles,
    ds.sources,
    ds.sentences,
    ds.escalatory_sentences,
    ds.deescalatory_sentences,
    ds.escalation_index,
    ds.deescalation_index,
    ds.max_score
from daily_signals as ds
