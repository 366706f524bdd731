-- Projection checkpoints: written in the same transaction as the rows a batch produced.
CREATE TABLE projection_checkpoints (
    name            text PRIMARY KEY,
    transaction_id  bigint      NOT NULL DEFAULT 0,
    position        bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Read model: organizations.
CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    code        text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Read model: accounts.
CREATE TABLE accounts (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    role             text        NOT NULL,
    title            text,
    first_name       text,
    middle_name      text,
    last_name        text,
    email            text,
    status           text        NOT NULL CHECK (status IN ('pending', 'active')),
    registered_at    timestamptz NOT NULL,
    activated_at     timestamptz,
    last_signed_in_at timestamptz
);

CREATE INDEX accounts_organization ON accounts (organization_id, registered_at DESC);
