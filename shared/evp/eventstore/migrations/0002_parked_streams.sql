-- Streams an outbox relay stopped publishing because one event can never be published
-- (unknown type, refused by the broker for good). The relay skips their later events,
-- which stay in evp_events, so each stream's order holds; "evp outbox retry" republishes
-- from "position" and deletes the row.
CREATE TABLE evp_parked_streams (
    relay      text        NOT NULL,
    stream_id  text        NOT NULL,
    position   bigint      NOT NULL,
    event_type text        NOT NULL,
    reason     text        NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relay, stream_id)
);
