-- Helper for pipeline_run_summary: the duration of each run in seconds. SQLite has no interval
-- type (julianday difference); PostgreSQL extracts the epoch of an interval, see
-- _run_durations.postgresql.sql.
select
    pr.run_id,
    round((julianday(pr.finished_at) - julianday(pr.started_at)) * 86400.0, 1) as duration_s
from pipeline_runs as pr
