-- Which actors are heating up? Mean daily escalation index over the recent window [:since, :until]
-- against the same actor's mean over the baseline window [:baseline_since, :since), with the
-- escalatory sentences, articles and distinct sources behind it. Days are averaged over the days the
-- pipeline has any signal (so an actor's silent day counts as 0).
-- param since: date = -6          first day of the recent window (negative: days before today, UTC)
-- param until: date = 0           last day of the recent window
-- param baseline_since: date = since-28  first day of the baseline window (default 28 days before :since; it ends the day before :since)
-- param min_articles: int = 3     ignore actors with fewer articles in the recent window
-- param limit: int = 20
with recent_days as (
    select count(distinct ds.day) as days
    from daily_signals as ds
    where ds.day between :since and :until
),

baseline_days as (
    select count(distinct ds.day) as days
    from daily_signals as ds
    where ds.day >= :baseline_since and ds.day < :since
),

recent as (
    select
        ds.actor,
        sum(ds.escalation_index) as index_total,
        sum(ds.escalatory_sentences) as escalatory_sentences,
        sum(ds.articles) as articles,
        max(ds.sources) as most_sources_in_a_day
    from daily_signals as ds
    where ds.day between :since and :until and ds.actor <> 'ALL'
    group by ds.actor
),

baseline as (
    select
        ds.actor,
        sum(ds.escalation_index) as index_total
    from daily_signals as ds
    where ds.day >= :baseline_since and ds.day < :since and ds.actor <> 'ALL'
    group by ds.actor
),

compared as (
    select
        r.actor,
        r.index_total / rd.days as recent_mean_index,
        case when bd.days > 0 then coalesce(b.index_total, 0.0) / bd.days end as baseline_mean_index,
        r.escalatory_sentences,
        r.articles,
        r.most_sources_in_a_day
    from recent as r
    cross join recent_days as rd
    cross join baseline_days as bd
    left join baseline as b on b.actor = r.actor
    where r.articles >= :min_articles
)

select
    c.actor,
    c.recent_mean_index as recent_mean_index,
    c.baseline_mean_index as baseline_mean_index,
    c.recent_mean_index - coalesce(c.baseline_mean_index, 0) as rise,
    c.escalatory_sentences,
    c.articles,
    c.most_sources_in_a_day
from compared as c
order by rise desc, c.actor
limit :limit
