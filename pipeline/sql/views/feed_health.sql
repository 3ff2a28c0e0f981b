-- Feed health: per feed, the last fetch and the last success, failures in a row since that success
-- and in total, the last error, and how many items it brings (articles per day it published on).
with fetches as (
    select
        fl.feed_id,
        count(*) as fetches,
        sum(case when fl.ok then 1 else 0 end) as fetches_ok,
        sum(case when fl.ok then 0 else 1 end) as fetches_failed,
        sum(case when fl.not_modified then 1 else 0 end) as fetches_not_modified,
        sum(fl.new_articles) as new_articles_fetched,
        avg(fl.elapsed_s) as mean_fetch_seconds
    from fetch_log as fl
    group by fl.feed_id
),

failures_since_success as (
    select
        f.feed_id,
        count(fl.fetch_id) as failures_in_a_row
    from feeds as f
    left join fetch_log as fl
        on
            fl.feed_id = f.feed_id
            and not fl.ok
            and (f.last_success_at is null or fl.fetched_at > f.last_success_at)
    group by f.feed_id
),

items as (
    select
        ar.feed_id,
        count(*) as articles,
        count(distinct ar.published_day) as active_days,
        min(ar.published_day) as first_article_day,
        max(ar.published_day) as last_article_day
    from articles as ar
    group by ar.feed_id
)

select
    f.feed_id,
    f.url,
    f.title,
    f.last_fetched_at,
    f.last_success_at,
    f.last_status,
    f.last_error,
    coalesce(s.failures_in_a_row, 0) as failures_in_a_row,
    coalesce(fe.fetches, 0) as fetches,
    coalesce(fe.fetches_ok, 0) as fetches_ok,
    coalesce(fe.fetches_failed, 0) as fetches_failed,
    coalesce(fe.fetches_not_modified, 0) as fetches_not_modified,
    fe.mean_fetch_seconds,
    coalesce(i.articles, 0) as articles,
    coalesce(i.active_days, 0) as active_days,
    case when i.active_days > 0 then 1.0 * i.articles / i.active_days end as articles_per_active_day,
    i.first_article_day,
    i.last_article_day
from feeds as f
left join fetches as fe on fe.feed_id = f.feed_id
left join failures_since_success as s on s.feed_id = f.feed_id
left join items as i on i.feed_id = f.feed_id
