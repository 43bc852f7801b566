-- A scope's config is Confluent's whole Config entity (level, normalize, alias, validation
-- flags, metadata and rule sets), kept as one JSON object per scope under kind 'config'.
-- The levels set so far become configs holding only their level.

ALTER TABLE registry_settings DROP CONSTRAINT registry_settings_kind_check;

INSERT INTO registry_settings (kind, scope, value)
SELECT 'config', scope, json_build_object('compatibilityLevel', value)::text
FROM registry_settings WHERE kind = 'compatibility';

DELETE FROM registry_settings WHERE kind = 'compatibility';

ALTER TABLE registry_settings
    ADD CONSTRAINT registry_settings_kind_check CHECK (kind IN ('config', 'mode'));
