-- Escalatory evidence, each text once: one row per published day and distinct text of
-- escalation_sentences, so wire copies of one report carried by several items or outlets are one
-- row. copies: the items that carried the text that day; outlets: the distinct outlets among them
-- (feeds.outlet, so a publisher's two feeds count once);
-- first_published_at: the earliest copy. The other columns are those of its strongest copy (the
-- lowest sentence id among the highest score). Texts are compared exactly as stored, so both
-- dialects group alike.
with copies as (
    select
        es.day,
        es.text,
        count(*) as copies,
        count(distinct es.outlet) as outlets,
        min(es.published_at) as first_published_at
    from escalation_sentences as es
    group by es.day, es.text
),

ranked as (
    select
        es.day,
        es.text,
        es.sentence_id,
        es.score,
        es.actors,
        es.matched_terms,
        es.title,
        es.url,
        es.feed_title,
        row_number() over (partition by es.day, es.text order by es.score desc, es.sentence_id) as copy_rank
    from escalation_sentences as es
)

select
    r.day,
    r.text,
    c.copies,
    c.outlets,
    r.score,
    r.actors,
    r.matched_terms,
    r.sentence_id,
    r.title,
    r.url,
    r.feed_title,
    c.first_published_at
from ranked as r
inner join copies as c on c.day = r.day and c.text = r.text
where r.copy_rank = 1
