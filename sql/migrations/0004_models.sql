-- The models the tools learn (`support-store models`): every promoted model of
-- each tool, numbered, with what it learned from, how it scored on the
-- held-out data it was promoted on, and which one the pipelines use now.

CREATE TABLE models (
    id               bigserial PRIMARY KEY,
    -- The tool that reads it: categorize, sentiment, ml-predict or answer.
    tool             text NOT NULL,
    -- 1, 2, ... per tool, in the order they were promoted.
    version          integer NOT NULL CHECK (version > 0),
    -- SHA-256 of the model's files (names and bytes): its identity.
    sha256           text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- A model file, or a folder of files (support-answer's index).
    kind             text NOT NULL CHECK (kind IN ('file', 'folder')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- What it was trained on, as the caller describes it.
    training_data    text,
    -- The held-out data of the promotion: its file name and SHA-256.
    eval_data        text,
    -- The tool's evaluation report of this model on that data, and of the
    -- model it replaced (the embedded default when there was none).
    metrics          jsonb NOT NULL CHECK (jsonb_typeof(metrics) = 'object'),
    replaced_metrics jsonb CHECK (jsonb_typeof(replaced_metrics) = 'object'),
    -- The model the pipelines use now: at most one per tool.
    active           boolean NOT NULL DEFAULT false,
    promoted_at      timestamptz NOT NULL DEFAULT now(),
    -- Set when a rollback undid its promotion.
    rolled_back_at   timestamptz,
    UNIQUE (tool, version)
);

CREATE UNIQUE INDEX models_one_active_per_tool ON models (tool) WHERE active;

-- The bytes, kept in the store so that every worker gets the same model and a
-- rollback never finds its file gone. A model file is one row named ''.
CREATE TABLE model_files (
    model_id bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    name     text NOT NULL,
    content  bytea NOT NULL,
    PRIMARY KEY (model_id, name)
);
