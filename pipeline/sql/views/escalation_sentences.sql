-- Escalatory sentences (score >= the scorer's escalatory threshold, from the scoring_thresholds
-- table that init_schema fills from pipeline.score) with what explains them:
-- score and its parts, the matched terms, the actors tagged, and the article, its link, its feed and
-- the feed's outlet (feeds.outlet: a publisher's world and regional feeds are one outlet).
-- The day is the article's published day (UTC). The actor and term lists come from
-- _sentence_lists (the only dialect-specific part).
with escalatory as (
    select
        s.sentence_id,
        s.article_id,
        s.seq,
        s.text,
        s.score,
        s.escalation,
        s.deescalation,
        s.matches,
        s.scorer_version,
        ar.published_day,
        ar.published_at,
        ar.title,
        ar.url,
        ar.feed_id
    from sentences as s
    inner join articles as ar on ar.article_id = s.article_id
    where s.score >= (select t.value from scoring_thresholds as t where t.name = 'escalatory')
)

select
    e.sentence_id,
    e.published_day as day,
    e.published_at,
    l.actors,
    e.score,
    e.escalation,
    e.deescalation,
    e.text,
    l.matched_terms,
    e.matches as matches_json,
    e.scorer_version,
    e.article_id,
    e.seq,
    e.title,
    e.url,
    f.title as feed_title,
    f.url as feed_url,
    f.outlet
from escalatory as e
inner join _sentence_lists as l on l.sentence_id = e.sentence_id
inner join feeds as f on f.feed_id = e.feed_id
