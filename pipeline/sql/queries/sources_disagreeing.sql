-- Where do sources disagree? Actor-days in [:since, :until] on which feeds described the same actor
-- in the most different tone: each feed's mean sentence score for the actor that day, and the gap
-- between the most hostile and the most conciliatory feed (only feeds with :min_sentences or more).
-- param since: date = -6
-- param until: date = 0
-- param min_sentences: int = 3
-- param limit: int = 20
with per_feed as (
    select
        sa.actor,
        ar.published_day as day,
        ar.feed_id,
        count(*) as sentences,
        avg(s.score) as mean_score
    from sentence_actors as sa
    inner join sentences as s on s.sentence_id = sa.sentence_id
    inner join articles as ar on ar.article_id = s.article_id
    where ar.published_day between :since and :until
    group by sa.actor, ar.published_day, ar.feed_id
    having count(*) >= :min_sentences
),

ranked as (
    select
        pf.actor,
        pf.day,
        pf.feed_id,
        pf.sentences,
        pf.mean_score,
        count(*) over (partition by pf.actor, pf.day) as feeds,
        row_number() over (partition by pf.actor, pf.day order by pf.mean_score desc, pf.feed_id) as hostile_rank,
        row_number() over (partition by pf.actor, pf.day order by pf.mean_score asc, pf.feed_id) as calm_rank
    from per_feed as pf
),

extremes as (
    select
        hostile.actor,
        hostile.day,
        hostile.feeds,
        hostile.feed_id as hostile_feed_id,
        hostile.mean_score as hostile_mean_score,
        calm.feed_id as calm_feed_id,
        calm.mean_score as calm_mean_score
    from ranked as hostile
    inner join ranked as calm
        on calm.actor = hostile.actor and calm.day = hostile.day and calm.calm_rank = 1
    where hostile.hostile_rank = 1 and hostile.feeds >= 2
)

select
    e.actor,
    e.day,
    e.feeds,
    e.hostile_mean_score - e.calm_mean_score as tone_gap,
    hostile_feed.title as most_hostile_feed,
    e.hostile_mean_score as most_hostile_mean_score,
    calm_feed.title as most_conciliatory_feed,
    e.calm_mean_score as most_conciliatory_mean_score
from extremes as e
inner join feeds as hostile_feed on hostile_feed.feed_id = e.hostile_feed_id
inner join feeds as calm_feed on calm_feed.feed_id = e.calm_feed_id
order by tone_gap desc, e.actor, e.day
limit :limit
