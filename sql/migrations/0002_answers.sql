-- support-answer in the store: the knowledge base as support-answer reads it
-- (`support-answer index --db`), and the articles that failed customers.

-- An article's questions (ways customers ask it), link and reply texts per
-- language ({"es": "...", "en": "..."}), as in support-answer's JSON Lines.
ALTER TABLE kb_entries
    ADD COLUMN questions text[] NOT NULL DEFAULT '{}',
    ADD COLUMN url       text,
    ADD COLUMN reply     jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(reply) = 'object');

-- Articles support-answer sent automatically (`answer.auto_reply`) that
-- failed: the customer rated the ticket 2 or less, or a person corrected the
-- answer to another article (`support-store correct` with tool `answer`).
-- One row per article, with the tickets and the customers' words that
-- failed it: what to rewrite or split in the knowledge base. Live and
-- archived tickets.
CREATE VIEW v_kb_failed_articles AS
WITH answered AS (
    SELECT r.ticket_id, r.label AS article_id, r.true_label, t.subject, t.body
    FROM triage_results r JOIN tickets t ON t.id = r.ticket_id
    WHERE r.tool = 'answer' AND (r.result ->> 'auto_reply')::boolean
    UNION ALL
    SELECT r.ticket_id, r.label, r.true_label, t.subject, t.body
    FROM triage_results_archive r JOIN tickets_archive t ON t.id = r.ticket_id
    WHERE r.tool = 'answer' AND (r.result ->> 'auto_reply')::boolean
), judged AS (
    SELECT a.*,
           (SELECT min(f.rating) FROM feedback f WHERE f.ticket_id = a.ticket_id) AS worst_rating,
           a.true_label IS NOT NULL AND a.true_label <> a.article_id AS corrected
    FROM answered a
    WHERE a.article_id IS NOT NULL
)
SELECT
    article_id,
    count(*)::bigint AS answered,
    count(*) FILTER (WHERE worst_rating <= 2 OR corrected)::bigint AS failed,
    count(*) FILTER (WHERE worst_rating <= 2)::bigint AS low_ratings,
    count(*) FILTER (WHERE corrected)::bigint AS corrected,
    round((count(*) FILTER (WHERE worst_rating <= 2 OR corrected))::numeric / count(*), 4)::double precision
        AS failure_rate,
    array_agg(ticket_id ORDER BY ticket_id) FILTER (WHERE worst_rating <= 2 OR corrected) AS failed_tickets,
    array_agg(concat_ws(' | ', nullif(subject, ''), nullif(body, '')) ORDER BY ticket_id)
        FILTER (WHERE worst_rating <= 2 OR corrected) AS failed_queries
FROM judged
GROUP BY article_id
HAVING count(*) FILTER (WHERE worst_rating <= 2 OR corrected) > 0;
