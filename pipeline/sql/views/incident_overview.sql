-- Incidents as an analyst reads them: one row per incident (live and backtest; filter on mode), its
-- actors and kind, when it opened, last alerted and closed (null while open), its peak severity and
-- surprise, how many alerts it is made of, how many pages it raised (upgrades: those after the
-- first, a grave act's included; the last one's day and
-- severity), and how many of those pages' deliveries were sent, failed or are pending.
with members as (
    select
        ia.incident_id,
        count(*) as linked_alerts,
        sum(case when a.severity = 'critical' then 1 else 0 end) as critical_alerts
    from incident_alerts as ia
    inner join alerts as a on a.alert_id = ia.alert_id
    group by ia.incident_id
),

pages as (
    select
        p.incident_id,
        count(*) as pages,
        max(p.day) as last_page_day,
        sum(case when p.reason <> 'open' then 1 else 0 end) as upgrades
    from incident_pages as p
    group by p.incident_id
),

last_pages as (
    select
        p.incident_id,
        p.severity as last_page_severity
    from incident_pages as p
    inner join pages as pg on pg.incident_id = p.incident_id and pg.last_page_day = p.day
),

deliveries as (
    select
        p.incident_id,
        sum(case when d.status = 'sent' then 1 else 0 end) as deliveries_sent,
        sum(case when d.status = 'failed' then 1 else 0 end) as deliveries_failed,
        sum(case when d.status in ('pending', 'sending') then 1 else 0 end) as deliveries_pending
    from page_deliveries as d
    inner join incident_pages as p on p.page_id = d.page_id
    group by p.incident_id
)

select
    i.incident_id,
    i.mode,
    i.kind,
    i.actors,
    i.lead,
    i.opened,
    i.last_alert,
    i.closed,
    i.severity as peak_severity,
    i.peak_surprise,
    i.alerts,
    coalesce(m.linked_alerts, 0) as linked_alerts,
    coalesce(m.critical_alerts, 0) as critical_alerts,
    i.first_paged,
    i.paged_severity,
    coalesce(pg.pages, 0) as pages,
    coalesce(pg.upgrades, 0) as upgrades,
    pg.last_page_day,
    lp.last_page_severity,
    coalesce(d.deliveries_sent, 0) as deliveries_sent,
    coalesce(d.deliveries_failed, 0) as deliveries_failed,
    coalesce(d.deliveries_pending, 0) as deliveries_pending,
    i.evidence as evidence_json,
    i.created_at,
    i.updated_at
from incidents as i
left join members as m on m.incident_id = i.incident_id
left join pages as pg on pg.incident_id = i.incident_id
left join last_pages as lp on lp.incident_id = i.incident_id
left join deliveries as d on d.incident_id = i.incident_id
