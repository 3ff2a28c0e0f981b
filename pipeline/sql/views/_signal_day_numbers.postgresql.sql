-- Helper for actor_daily_context: each daily_signals row with its day as a whole number, so that
-- rolling windows can count days (range between n preceding). This is the one place the dialects
-- differ there: PostgreSQL subtracts dates, SQLite has no date arithmetic (julianday); see
-- _signal_day_numbers.sqlite.sql. Views whose names start with "_" are building blocks.
select
    ds.actor,
    ds.day,
    (ds.day - date '1970-01-01') as day_number,
    ds.articles,
    ds.sources,
    ds.sentences,
    ds.escalatory_sentences,
    ds.deescalatory_sentences,
    ds.escalation_index,
    ds.deescalation_index,
    ds.max_score
from daily_signals as ds
