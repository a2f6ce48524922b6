-- Control tables: what the configuration declares, stored so that every role and the admin API share one view.
CREATE TABLE sources (
    id               text PRIMARY KEY,
    write_key_sha256 text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
