-- Whether anyone may browse an organization's calendar without signing in, and read it as iCalendar
-- (CalendarVisibilitySet). Read with the organization by the public `organization(code)` query and the feed.
ALTER TABLE organizations ADD COLUMN calendar_public boolean NOT NULL DEFAULT false;
