-- Helper for pipeline_run_summary: the duration of each run in seconds. PostgreSQL extracts the
-- epoch of an interval; SQLite has no interval type (julianday difference), see
-- _run_durations.sqlite.sql.
select
    pr.run_id,
    round(cast(extract(epoch from pr.finished_at - pr.started_at) as numeric), 1) as duration_s
from pipeline_runs as pr
