// The staff pages, in one chunk of their own: learners and patients never load them.
export { StaffArea } from './StaffArea';
export { Schedule } from './Schedule';
export { SignInSheet } from './SignInSheet';
export { LockedAccounts, SignInAttempts } from './LockedAccounts';
export { Invite } from './Invite';
export { Settings } from './Settings';
export { Messages } from './Messages';
export { Deliveries } from './Deliveries';
export { Reports } from './Reports';
export { Patients } from './Patients';
export { SignUpRequests } from './SignUpRequests';
export { Day } from './Day';
export { Catalogue } from './Catalogue';
export { Statements } from './Statements';
export { Policies } from './Policies';
