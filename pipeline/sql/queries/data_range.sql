-- Which days does the warehouse hold? The first and last published day of the stored articles,
-- with how many articles, feeds and alerts there are: the --since/--until that show something.
select
    min(a.published_day) as first_day,
    max(a.published_day) as last_day,
    count(*) as articles,
    count(distinct a.feed_id) as feeds,
    (select count(*) from alerts) as alerts
from articles as a
