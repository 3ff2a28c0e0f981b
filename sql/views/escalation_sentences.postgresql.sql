-- Escalatory sentences (score >= 0.2, the scorer's escalation threshold) with what explains them:
-- score and its parts, the matched terms, the actors tagged, and the article, its link and its feed.
-- The day is the article's published day (UTC). Dialects differ in aggregating the actor list and
-- reading the matches JSON (SQLite: group_concat over an ordered subquery, json_each; PostgreSQL:
-- string_agg ... order by, jsonb_array_elements with ordinality), see escalation_sentences.sqlite.sql.
-- The lists are computed per output row (correlated subqueries in the select list), so a filter
-- on day or actor is applied first: the view stays fast on a year of data.
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
    where s.score >= 0.2
)

select
    e.sentence_id,
    e.published_day as day,
    e.published_at,
        (
            select string_agg(sa.actor, ',' order by sa.actor)
            from sentence_actors as sa
            where sa.sentence_id = e.sentence_id
        ) as actors,
    e.score,
    e.escalation,
    e.deescalation,
    e.text,
        (
            select string_agg(m.element ->> 'term', '; ' order by m.position)
            from jsonb_array_elements(cast(e.matches as jsonb)) with ordinality as m (element, position)
        ) as matched_terms,
    e.matches as matches_json,
    e.scorer_version,
    e.article_id,
    e.seq,
    e.title,
    e.url,
    f.title as feed_title,
    f.url as feed_url
from escalatory as e
inner join feeds as f on f.feed_id = e.feed_id
