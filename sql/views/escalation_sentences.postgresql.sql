-- Escalatory sentences (score >= 0.2, the scorer's escalation threshold) with what explains them:
-- score and its parts, the matched terms, the actors tagged, and the article, its link and its feed.
-- The day is the article's published day (UTC). Dialects differ in aggregating the actor list and
-- reading the matches JSON (SQLite: group_concat over an ordered subquery, json_each; PostgreSQL:
-- string_agg ... order by, jsonb_array_elements with ordinality), see escalation_sentences.sqlite.sql.
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
        s.scorer_version
    from sentences as s
    where s.score >= 0.2
),

described as (
    select
        e.sentence_id,
        (
            select string_agg(sa.actor, ',' order by sa.actor)
            from sentence_actors as sa
            where sa.sentence_id = e.sentence_id
        ) as actors,
        (
            select string_agg(m.element ->> 'term', '; ' order by m.position)
            from jsonb_array_elements(cast(e.matches as jsonb)) with ordinality as m (element, position)
        ) as matched_terms
    from escalatory as e
)

select
    e.sentence_id,
    ar.published_day as day,
    ar.published_at,
    d.actors,
    e.score,
    e.escalation,
    e.deescalation,
    e.text,
    d.matched_terms,
    e.matches as matches_json,
    e.scorer_version,
    e.article_id,
    e.seq,
    ar.title,
    ar.url,
    f.title as feed_title,
    f.url as feed_url
from escalatory as e
inner join described as d on d.sentence_id = e.sentence_id
inner join articles as ar on ar.article_id = e.article_id
inner join feeds as f on f.feed_id = ar.feed_id
