-- Alerts with their evidence and delivery state: one row per alert (live and backtest; filter on
-- mode), the measure that spiked with value, baseline and surprise, the corroboration behind it, the
-- top sentences as JSON (text, score, matches, title, url, feed), and how many channels got it.
with deliveries as (
    select
        ad.alert_id,
        count(*) as channels,
        sum(case when ad.status = 'sent' then 1 else 0 end) as channels_sent,
        sum(case when ad.status = 'failed' then 1 else 0 end) as channels_failed,
        sum(case when ad.status = 'pending' then 1 else 0 end) as channels_pending,
        max(ad.sent_at) as last_sent_at
    from alert_deliveries as ad
    group by ad.alert_id
)

select
    a.alert_id,
    a.day,
    a.actor,
    a.kind,
    a.severity,
    a.measure,
    a.value,
    a.baseline,
    a.spread,
    a.surprise,
    a.articles,
    a.sources,
    a.mode,
    a.evidence as evidence_json,
    coalesce(d.channels, 0) as channels,
    coalesce(d.channels_sent, 0) as channels_sent,
    coalesce(d.channels_failed, 0) as channels_failed,
    coalesce(d.channels_pending, 0) as channels_pending,
    d.last_sent_at,
    a.created_at,
    a.updated_at
from alerts as a
left join deliveries as d on d.alert_id = a.alert_id
