import { Activate } from './Activate';
import { ConfirmEmail } from './ConfirmEmail';
import { ResetPassword } from './ResetPassword';
import { useOrganization } from './OrganizationLayout';

// The pages e-mailed links open, inside an organization's portal: after them, its sign-in.

/** The activation page of an organization's portal, which then leads to its sign-in. */
export function OrganizationActivate() {
  const organization = useOrganization();
  return <Activate signIn={`/o/${organization.code}/sign-in`} />;
}

/** The password-reset page of an organization's portal, which then leads to its sign-in. */
export function OrganizationResetPassword() {
  const organization = useOrganization();
  return <ResetPassword signIn={`/o/${organization.code}/sign-in`} />;
}

/** The e-mail change confirmation of an organization's portal, which then leads to its sign-in. */
export function OrganizationConfirmEmail() {
  const organization = useOrganization();
  return <ConfirmEmail signIn={`/o/${organization.code}/sign-in`} />;
}
