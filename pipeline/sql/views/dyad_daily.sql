-- Actor pairs (dyads) named together in escalatory sentences (score >= the scorer's escalatory
-- threshold, from the scoring_thresholds table that init_schema fills from pipeline.score), per day: how often,
-- how hostile on average and at most, in how many articles. Each pair appears once, in code order
-- (actor_a < actor_b; on PostgreSQL that order follows the database collation).
with escalatory as (
    select
        s.sentence_id,
        s.article_id,
        s.score,
        ar.published_day as day
    from sentences as s
    inner join articles as ar on ar.article_id = s.article_id
    where s.score >= (select t.value from scoring_thresholds as t where t.name = 'escalatory')
),

pairs as (
    select
        e.day,
        first_actor.actor as actor_a,
        second_actor.actor as actor_b,
        e.sentence_id,
        e.article_id,
        e.score
    from escalatory as e
    inner join sentence_actors as first_actor on first_actor.sentence_id = e.sentence_id
    inner join sentence_actors as second_actor
        on second_actor.sentence_id = e.sentence_id and first_actor.actor < second_actor.actor
)

select
    p.day,
    p.actor_a,
    p.actor_b,
    count(*) as escalatory_sentences,
    count(distinct p.article_id) as articles,
    avg(p.score) as mean_score,
    max(p.score) as max_score
from pairs as p
group by p.day, p.actor_a, p.actor_b
