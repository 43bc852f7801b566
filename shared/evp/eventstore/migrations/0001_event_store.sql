-- The event store of one service: its events, the counter that numbers them, the writer
-- schemas of their frames, and what its consumers have processed.

-- Events as they travel (wire-format frames, schema id included) beside queryable metadata.
-- "position" is the global order across streams; evp_event_position hands it out.
CREATE TABLE evp_events (
    position         bigint      NOT NULL PRIMARY KEY,
    stream_id        text        NOT NULL,
    -- NOT NULL also guards contiguity: an append whose expected version is not stored
    -- writes NULL here (see evp.eventstore.postgres), so version n never precedes n - 1.
    stream_version   integer     NOT NULL CHECK (stream_version > 0),
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    correlation_id   uuid        NOT NULL,
    causation_id     uuid,
    recorded_at      timestamptz NOT NULL,
    data             bytea       NOT NULL,
    -- Two appenders of one stream version collide here: the loser's append fails.
    CONSTRAINT evp_events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT evp_events_event_id_key UNIQUE (event_id)
);

CREATE INDEX evp_events_correlation_id_idx ON evp_events (correlation_id);

-- One row holding the last position handed out. Appenders update it in the statement that
-- inserts their events, so its row lock orders them: see evp.eventstore.postgres.
CREATE TABLE evp_event_position (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_position bigint  NOT NULL
);
INSERT INTO evp_event_position (id, last_position) VALUES (true, 0);

-- Writer schemas of stored frames, so the store can be read without the registry.
CREATE TABLE evp_schemas (
    schema_id integer PRIMARY KEY,
    schema    text    NOT NULL
);

-- How far each position-following consumer (outbox relay, projection) has got.
CREATE TABLE evp_checkpoints (
    consumer   text        PRIMARY KEY,
    position   bigint      NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which events each idempotent consumer has handled, committed with its own changes.
CREATE TABLE evp_processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
