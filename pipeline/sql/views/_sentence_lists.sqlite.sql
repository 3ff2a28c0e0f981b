-- Helper for escalation_sentences: per sentence, the actors tagged (comma-separated, in code order)
-- and the matched terms (in reading order). The dialects differ in string aggregation and JSON:
-- SQLite uses group_concat over an ordered subquery and json_each; PostgreSQL string_agg ... order
-- by and jsonb_array_elements with ordinality, see _sentence_lists.postgresql.sql. The lists are
-- correlated subqueries in the select list, so they are computed only for the rows a query keeps.
select
    s.sentence_id,
    (
        select group_concat(ordered.actor, ',')
        from (
            select sa.actor
            from sentence_actors as sa
            where sa.sentence_id = s.sentence_id
            order by sa.actor
        ) as ordered
    ) as actors,
    (
        select group_concat(json_extract(m.value, '$.term'), '; ')
        from json_each(s.matches) as m
    ) as matched_terms
from sentences as s
