-- How people reach each organization's help desk (HelpContactsSet): shown by the public `organization(code)` query,
-- so they sit in the read model beside the name. NULL: not given.
ALTER TABLE organizations
    ADD COLUMN help_display_name text,
    ADD COLUMN help_phone text,
    ADD COLUMN help_hours text,
    ADD COLUMN help_email text,
    ADD COLUMN help_web text;
