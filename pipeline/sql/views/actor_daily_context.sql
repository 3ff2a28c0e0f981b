-- Daily escalation signal per actor, with 7-day and 28-day rolling context.
-- One row per actor-day with coverage (plus the pseudo-actor 'ALL', every sentence of the day).
-- Rolling means divide by the window length, so a day without coverage counts as 0; windows include
-- the day itself. The day numbers come from _signal_day_numbers (the only dialect-specific part).
with signals as (
    select * from _signal_day_numbers
),

rolling as (
    select
        s.actor,
        s.day,
        s.articles,
        s.sources,
        s.sentences,
        s.escalatory_sentences,
        s.deescalatory_sentences,
        s.escalation_index,
        s.deescalation_index,
        s.max_score,
        sum(s.escalation_index) over last_7_days / 7.0 as escalation_index_7d,
        sum(s.escalation_index) over last_28_days / 28.0 as escalation_index_28d,
        sum(s.deescalation_index) over last_7_days / 7.0 as deescalation_index_7d,
        sum(s.deescalation_index) over last_28_days / 28.0 as deescalation_index_28d,
        sum(s.escalatory_sentences) over last_7_days as escalatory_sentences_7d,
        sum(s.escalatory_sentences) over last_28_days as escalatory_sentences_28d,
        sum(s.articles) over last_28_days as articles_28d
    from signals as s
    window
        last_7_days as (partition by s.actor order by s.day_number range between 6 preceding and current row),
        last_28_days as (partition by s.actor order by s.day_number range between 27 preceding and current row)
)

select
    r.actor,
    r.day,
    r.articles,
    r.sources,
    r.sentences,
    r.escalatory_sentences,
    r.deescalatory_sentences,
    r.escalation_index,
    r.deescalation_index,
    r.max_score,
    r.escalation_index_7d,
    r.escalation_index_28d,
    r.escalation_index - r.escalation_index_28d as escalation_vs_28d,
    r.deescalation_index_7d,
    r.deescalation_index_28d,
    r.escalatory_sentences_7d,
    r.escalatory_sentences_28d,
    r.articles_28d
from rolling as r
