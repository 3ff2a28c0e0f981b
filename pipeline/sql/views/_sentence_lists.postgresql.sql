-- Helper for escalation_sentences: per sentence, the actors tagged (comma-separated, in code order)
-- and the matched terms (in reading order). The dialects differ in string aggregation and JSON:
-- PostgreSQL uses string_agg ... order by and jsonb_array_elements with ordinality; SQLite
-- group_concat over an ordered subquery and json_each, see _sentence_lists.sqlite.sql. The lists are
-- correlated subqueries in the select list, so they are computed only for the rows a query keeps.
select
    s.sentence_id,
    (
        select string_agg(sa.actor, ',' order by sa.actor)
        from sentence_actors as sa
        where sa.sentence_id = s.sentence_id
    ) as actors,
    (
        select string_agg(m.element ->> 'term', '; ' order by m.position)
        from jsonb_array_elements(cast(s.matches as jsonb)) with ordinality as m (element, position)
    ) as matched_terms
from sentences as s
