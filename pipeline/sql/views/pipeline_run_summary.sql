-- Pipeline runs: when, how triggered (cli, airflow, demo), how long, what they brought in and how
-- many feeds failed. The duration comes from _run_durations (the only dialect-specific part).
with runs as (
    select
        pr.run_id,
        pr.trigger,
        pr.status,
        pr.started_at,
        pr.finished_at,
        d.duration_s,
        pr.feeds_ok,
        pr.feeds_failed,
        pr.new_articles,
        pr.new_sentences
    from pipeline_runs as pr
    left join _run_durations as d on d.run_id = pr.run_id
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
