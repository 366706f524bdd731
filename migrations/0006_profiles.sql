-- Read model `accounts`: the professional profile and what it still misses.
ALTER TABLE accounts
    ADD COLUMN profile jsonb,
    ADD COLUMN missing_profile_fields text[] NOT NULL DEFAULT '{}';

-- Read model `accounts`: disabled by staff.
ALTER TABLE accounts ADD COLUMN disabled boolean NOT NULL DEFAULT false;
