-- Schema registry storage: schemas by global id, subject versions pointing at them, and
-- the compatibility / mode settings. Ids come from a sequence so that several registry
-- processes sharing this database never hand out the same id.

CREATE SEQUENCE registry_schema_id_seq AS integer START 1;

CREATE TABLE registry_schemas (
    id          integer     PRIMARY KEY,
    -- SHA-256 of the canonical text and the references: equal fingerprints, same schema.
    fingerprint text        NOT NULL,
    schema_type text        NOT NULL DEFAULT 'AVRO',
    schema      text        NOT NULL,
    refs        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Not unique: IMPORT mode may bring the same schema in under two ids, as Confluent's does.
CREATE INDEX registry_schemas_fingerprint ON registry_schemas (fingerprint);
CREATE INDEX registry_schemas_refs ON registry_schemas USING gin (refs jsonb_path_ops);

CREATE TABLE registry_subject_versions (
    subject       text        NOT NULL,
    version       integer     NOT NULL CHECK (version > 0),
    schema_id     integer     NOT NULL REFERENCES registry_schemas (id),
    deleted       boolean     NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, version)
);

CREATE INDEX registry_subject_versions_schema ON registry_subject_versions (schema_id);

CREATE TABLE registry_settings (
    kind  text NOT NULL CHECK (kind IN ('compatibility', 'mode')),
    -- The empty string is the global scope; it is never a valid subject name.
    scope text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (kind, scope)
);
