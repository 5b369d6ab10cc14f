-- 0001: the system of record for triaged tickets.
-- Applied by `support-store migrate` (version and SHA-256 recorded in schema_migrations).
-- Never edit this file once applied anywhere: add 0002_*.sql instead.
--
-- "Open" throughout means status NOT IN ('resolved', 'closed'); the partial
-- indexes below repeat that predicate word for word so the planner uses them.

CREATE TABLE tickets (
    id                      text PRIMARY KEY,
    subject                 text,
    body                    text,
    channel                 text,
    language                text,
    customer_id             text,
    customer_email          text,
    customer_name           text,
    customer_tier           text,
    status                  text NOT NULL DEFAULT 'open',
    created_at              timestamptz,
    first_response_at       timestamptz,
    resolved_at             timestamptz,
    closed_at               timestamptz,
    -- 'bot' or an agent id; set from the ticket, or 'bot' when a resolved
    -- transcript has bot replies and no agent reply.
    resolved_by             text,
    bot_resolved            boolean GENERATED ALWAYS AS (coalesce(resolved_by = 'bot', false)) STORED,
    category                text,
    subcategory             text,
    priority                text CHECK (priority IN ('low', 'medium', 'high', 'urgent', 'critical')),
    queue                   text,
    assigned_to             text,
    sla_first_response_due  timestamptz,
    sla_resolution_due      timestamptz,
    escalation_level        text,
    sentiment_label         text,
    sentiment_score         double precision,
    ticket                  jsonb NOT NULL,
    ingested_at             timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Closed tickets older than `maintain --archive-after`. Same columns in the same
-- order (bot_resolved becomes a plain column), so rows move with INSERT ... SELECT *.
-- A later migration adding a column to tickets must add it here too.
CREATE TABLE tickets_archive (LIKE tickets INCLUDING DEFAULTS);
ALTER TABLE tickets_archive ADD PRIMARY KEY (id);
ALTER TABLE tickets_archive ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();

-- The transcript. Also kept whole in tickets.ticket, which is why archiving
-- simply lets these rows go with their ticket.
CREATE TABLE messages (
    ticket_id  text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    position   int  NOT NULL,
    role       text NOT NULL,
    content    text NOT NULL,
    sent_at    timestamptz,
    PRIMARY KEY (ticket_id, position)
);

-- One row per tool decision. true_label is the human correction (support-store correct).
CREATE TABLE triage_results (
    ticket_id    text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tool         text NOT NULL,
    label        text,
    confidence   double precision,
    result       jsonb NOT NULL,
    true_label   text,
    corrected_by text,
    corrected_at timestamptz,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, tool)
);

-- Decisions of archived tickets keep their corrections (categorization accuracy).
CREATE TABLE triage_results_archive (LIKE triage_results INCLUDING DEFAULTS);
ALTER TABLE triage_results_archive ADD PRIMARY KEY (ticket_id, tool);

CREATE TABLE agents (
    id            text PRIMARY KEY,
    name          text,
    skills        text[] NOT NULL DEFAULT '{}',
    languages     text[] NOT NULL DEFAULT '{}',
    capacity      int,
    current_load  int NOT NULL DEFAULT 0,
    satisfaction  numeric,
    active        boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Feedback and escalations outlive archiving, so ticket_id is not a foreign
-- key: it names a row of tickets or tickets_archive (support-store checks).
CREATE TABLE feedback (
    id                bigserial PRIMARY KEY,
    ticket_id         text NOT NULL,
    message_position  int,
    rating            smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment           text,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE escalations (
    id               bigserial PRIMARY KEY,
    ticket_id        text NOT NULL,
    level            text NOT NULL,
    triggers         jsonb NOT NULL DEFAULT '[]',
    actions          jsonb NOT NULL DEFAULT '[]',
    escalated_at     timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    -- Re-ingesting a ticket does not escalate it twice to the same level.
    UNIQUE (ticket_id, level)
);

CREATE TABLE kb_entries (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    body        text NOT NULL,
    category    text,
    language    text,
    tags        text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operation_metrics (
    id           bigserial PRIMARY KEY,
    tool         text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  bigint NOT NULL,
    success      boolean NOT NULL,
    records      int,
    error        text
);

-- The whole records are the bulk of the data: lz4 compresses them several
-- times faster than the default pglz (PostgreSQL 14+ built with lz4; where it
-- is missing the columns keep pglz).
DO $$
BEGIN
    ALTER TABLE tickets ALTER COLUMN ticket SET COMPRESSION lz4;
    ALTER TABLE tickets_archive ALTER COLUMN ticket SET COMPRESSION lz4;
    ALTER TABLE triage_results ALTER COLUMN result SET COMPRESSION lz4;
    ALTER TABLE triage_results_archive ALTER COLUMN result SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression unavailable (%): jsonb stays pglz-compressed', SQLERRM;
END $$;

-- Indexes: export filters and dashboard periods (created_at, status, category,
-- priority), `due` (open tickets by SLA due time), agent performance, feedback
-- per ticket, metrics purge.
CREATE INDEX tickets_created_at_idx ON tickets (created_at);
CREATE INDEX tickets_status_created_idx ON tickets (status, created_at);
CREATE INDEX tickets_category_created_idx ON tickets (category, created_at);
CREATE INDEX tickets_priority_created_idx ON tickets (priority, created_at);
CREATE INDEX tickets_assigned_to_idx ON tickets (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX tickets_open_first_response_due_idx ON tickets (sla_first_response_due)
    WHERE status NOT IN ('resolved', 'closed') AND first_response_at IS NULL;
CREATE INDEX tickets_open_resolution_due_idx ON tickets (sla_resolution_due)
    WHERE status NOT IN ('resolved', 'closed') AND resolved_at IS NULL;
-- maintain: closed tickets by age.
CREATE INDEX tickets_closed_idx ON tickets (coalesce(closed_at, resolved_at, updated_at))
    WHERE status IN ('resolved', 'closed');
CREATE INDEX tickets_archive_created_at_idx ON tickets_archive (created_at);
CREATE INDEX triage_results_corrected_idx ON triage_results (tool) WHERE true_label IS NOT NULL;
CREATE INDEX feedback_ticket_idx ON feedback (ticket_id);
CREATE INDEX feedback_created_at_idx ON feedback (created_at);
CREATE INDEX escalations_ticket_idx ON escalations (ticket_id);
CREATE INDEX operation_metrics_started_at_idx ON operation_metrics (started_at);

-- Dashboard totals over the live tickets. Rates are fractions in [0, 1];
-- chatbot_resolution_rate = chatbot_resolved / total_tickets.
CREATE VIEW v_dashboard_totals AS
SELECT
    count(*)::bigint                                                        AS total_tickets,
    count(*) FILTER (WHERE bot_resolved)::bigint                            AS chatbot_resolved,
    count(*) FILTER (WHERE status NOT IN ('resolved', 'closed'))::bigint    AS pending,
    count(*) FILTER (WHERE priority IN ('critical', 'urgent'))::bigint      AS critical_urgent,
    round((avg(extract(epoch FROM first_response_at - created_at)) / 60)::numeric, 2)::double precision
                                                                            AS avg_first_response_minutes,
    coalesce(round((count(*) FILTER (WHERE bot_resolved))::numeric / nullif(count(*), 0), 4), 0)::double precision
                                                                            AS chatbot_resolution_rate
FROM tickets;

-- Per agent: tickets assigned (live tickets), resolved, response and
-- resolution times, CSAT from feedback on their tickets. Agents with no
-- tickets appear with zeros; ids assigned but missing from agents appear with
-- a null name.
CREATE VIEW v_agent_performance AS
WITH per_agent AS (
    SELECT
        t.assigned_to AS agent_id,
        count(*)::bigint AS tickets,
        count(*) FILTER (WHERE t.status IN ('resolved', 'closed') OR t.resolved_at IS NOT NULL)::bigint AS resolved,
        avg(extract(epoch FROM t.first_response_at - t.created_at)) / 60 AS first_response_minutes,
        avg(extract(epoch FROM coalesce(t.resolved_at, t.closed_at) - t.created_at)) / 60 AS resolution_minutes
    FROM tickets t
    WHERE t.assigned_to IS NOT NULL
    GROUP BY t.assigned_to
), csat AS (
    SELECT t.assigned_to AS agent_id, avg(f.rating) AS csat_avg
    FROM feedback f JOIN tickets t ON t.id = f.ticket_id
    WHERE t.assigned_to IS NOT NULL
    GROUP BY t.assigned_to
)
SELECT
    coalesce(a.id, p.agent_id)                                   AS agent_id,
    a.name                                                       AS name,
    coalesce(p.tickets, 0)                                       AS tickets,
    coalesce(p.resolved, 0)                                      AS resolved,
    round(p.first_response_minutes::numeric, 2)::double precision AS avg_first_response_minutes,
    round(p.resolution_minutes::numeric, 2)::double precision     AS avg_resolution_minutes,
    round(c.csat_avg, 2)::double precision                       AS csat_avg,
    a.current_load                                               AS current_load,
    a.capacity                                                   AS capacity
FROM agents a
FULL OUTER JOIN per_agent p ON p.agent_id = a.id
LEFT JOIN csat c ON c.agent_id = coalesce(a.id, p.agent_id);

-- SLA compliance per priority. A ticket counts towards a target once it is
-- decided: answered (resolved or closed), or still unanswered (unresolved)
-- after the due time. Rates are met / decided, null when nothing is decided.
CREATE VIEW v_sla_compliance AS
WITH clocks AS (
    SELECT priority, first_response_at, sla_first_response_due,
           coalesce(resolved_at, closed_at) AS resolved_at, sla_resolution_due
    FROM tickets
    WHERE priority IS NOT NULL
), counted AS (
    SELECT
        priority,
        count(*)::bigint AS tickets,
        count(*) FILTER (WHERE first_response_at <= sla_first_response_due)::bigint AS first_response_met,
        count(*) FILTER (WHERE resolved_at <= sla_resolution_due)::bigint AS resolution_met,
        count(*) FILTER (WHERE sla_first_response_due IS NOT NULL
                           AND (first_response_at IS NOT NULL OR sla_first_response_due < now()))::bigint
            AS first_response_decided,
        count(*) FILTER (WHERE sla_resolution_due IS NOT NULL
                           AND (resolved_at IS NOT NULL OR sla_resolution_due < now()))::bigint
            AS resolution_decided
    FROM clocks
    GROUP BY priority
)
SELECT
    priority, tickets, first_response_met, resolution_met, first_response_decided, resolution_decided,
    round(first_response_met::numeric / nullif(first_response_decided, 0), 4)::double precision
        AS first_response_rate,
    round(resolution_met::numeric / nullif(resolution_decided, 0), 4)::double precision
        AS resolution_rate
FROM counted;

-- How often each tool's decision matched the human correction (live and archived).
CREATE VIEW v_categorization_accuracy AS
SELECT
    tool,
    count(*)::bigint                                  AS corrected,
    count(*) FILTER (WHERE label = true_label)::bigint AS correct,
    round((count(*) FILTER (WHERE label = true_label))::numeric / count(*), 4)::double precision AS accuracy
FROM (
    SELECT tool, label, true_label FROM triage_results WHERE true_label IS NOT NULL
    UNION ALL
    SELECT tool, label, true_label FROM triage_results_archive WHERE true_label IS NOT NULL
) corrected
GROUP BY tool;

-- One row per UTC day of ticket creation, live and archived tickets.
-- breached: a first response or resolution after its due time, or an open
-- ticket's clock still running past it (as of the last refresh:
-- `support-store maintain`).
CREATE MATERIALIZED VIEW mv_daily_summary AS
WITH all_tickets AS (
    SELECT id, created_at, status, first_response_at, coalesce(resolved_at, closed_at) AS resolved_at,
           bot_resolved, sla_first_response_due, sla_resolution_due FROM tickets
    UNION ALL
    SELECT id, created_at, status, first_response_at, coalesce(resolved_at, closed_at) AS resolved_at,
           bot_resolved, sla_first_response_due, sla_resolution_due FROM tickets_archive
), clocks AS (
    SELECT *,
           status IN ('resolved', 'closed') OR resolved_at IS NOT NULL AS finished,
           -- When each clock stopped; now() while it runs, null when it stopped unrecorded.
           coalesce(first_response_at, CASE WHEN status NOT IN ('resolved', 'closed') THEN now() END)
               AS first_response_stop,
           coalesce(resolved_at, CASE WHEN status NOT IN ('resolved', 'closed') THEN now() END)
               AS resolution_stop
    FROM all_tickets
), csat AS (
    SELECT ticket_id, avg(rating) AS rating FROM feedback GROUP BY ticket_id
)
SELECT
    (t.created_at AT TIME ZONE 'UTC')::date AS day,
    count(*)::bigint AS tickets,
    count(*) FILTER (WHERE t.finished)::bigint AS resolved,
    count(*) FILTER (WHERE t.bot_resolved)::bigint AS bot_resolved,
    round((avg(extract(epoch FROM t.first_response_at - t.created_at)) / 60)::numeric, 2)::double precision
        AS avg_first_response_minutes,
    round(avg(c.rating), 2)::double precision AS csat_avg,
    count(*) FILTER (WHERE t.first_response_stop > t.sla_first_response_due
                        OR t.resolution_stop > t.sla_resolution_due)::bigint AS breached
FROM clocks t
LEFT JOIN csat c ON c.ticket_id = t.id
WHERE t.created_at IS NOT NULL
GROUP BY 1;

-- REFRESH ... CONCURRENTLY (readers never blocked) needs a unique index.
CREATE UNIQUE INDEX mv_daily_summary_day_idx ON mv_daily_summary (day);
