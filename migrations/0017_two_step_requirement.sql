-- Who must use two-step verification in each organization (TwoStepRequirementSet): `none`, `patients`, `staff` or
-- `both`. The gateway reads it with the terms on every signed-in request, so it lives beside `terms_version`.
ALTER TABLE organizations ADD COLUMN two_step_required text NOT NULL DEFAULT 'none'
    CHECK (two_step_required IN ('none', 'patients', 'staff', 'both'));
