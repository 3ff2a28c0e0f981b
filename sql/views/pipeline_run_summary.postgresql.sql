-- Pipeline runs: when, how triggered (cli, airflow, demo), how long, what they brought in and how
-- many feeds failed. Only the duration differs by dialect (SQLite: julianday difference; PostgreSQL:
-- extract(epoch from interval)), see pipeline_run_summary.sqlite.sql.
with runs as (
    select
        pr.run_id,
        pr.trigger,
        pr.status,
        pr.started_at,
        pr.finished_at,
        round(cast(extract(epoch from pr.finished_at - pr.started_at) as numeric), 1) as duration_s,
        pr.feeds_ok,
        pr.feeds_failed,
        pr.new_articles,
        pr.new_sentences
    from pipeline_runs as pr
)

select
    r.run_id,
    r.trigger,
    r.status,
    r.started_at,
    r.finished_at,
    r.duration_s,
    r.feeds_ok,
    r.feeds_failed,
    r.feeds_ok + r.feeds_failed as feeds,
    r.new_articles,
    r.new_sentences
from runs as r
