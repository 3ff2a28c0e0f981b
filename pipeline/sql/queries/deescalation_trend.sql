-- Is de-escalation language (ceasefire, talks, mediation, withdrawal) about :actor rising or falling?
-- Daily de-escalation index with its 7-day and 28-day means next to the escalation index, over
-- [:since, :until]; read the 7d column against the 28d one.
-- param actor: text
-- param since: date = -60
-- param until: date = 0
select
    adc.day,
    adc.actor,
    adc.deescalation_index as deescalation_index,
    adc.deescalation_index_7d as deescalation_index_7d,
    adc.deescalation_index_28d as deescalation_index_28d,
    adc.deescalation_index_7d - adc.deescalation_index_28d as deescalation_trend,
    adc.deescalatory_sentences,
    adc.escalation_index as escalation_index,
    adc.articles,
    adc.sources
from actor_daily_context as adc
where adc.actor = :actor and adc.day between :since and :until
order by adc.day
