// The care team's pages, in one chunk of their own: learners and patients never load them.
export { CareArea } from './CareArea';
export { Inbox, CareConversation } from './Inbox';
export { HeldResults } from './HeldResults';
export { Renewals } from './Renewals';
export { PatientMedications } from './PatientMedications';
