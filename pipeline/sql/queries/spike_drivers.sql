-- What drove the spike for actor :actor on day :day? The most escalatory sentences naming the actor
-- that day, with the terms that scored, the article and its feed; an alert's evidence, at any depth.
-- param actor: text                the actor code, e.g. IRN, HEZBOLLAH
-- param day: date = -1             the day (negative: days before today, UTC)
-- param limit: int = 20
select
    es.day,
    es.score,
    es.text,
    es.matched_terms,
    es.actors,
    es.title,
    es.url,
    es.feed_title,
    es.published_at,
    es.sentence_id
from escalation_sentences as es
where
    es.day = :day
    and exists (
        select 1
        from sentence_actors as sa
        where sa.sentence_id = es.sentence_id and sa.actor = :actor
    )
order by es.score desc, es.sentence_id
limit :limit
