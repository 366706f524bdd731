// The auditors' pages, in one chunk of their own: nobody else loads them.
export { AuditArea } from './AuditArea';
export { AccessLog } from './AccessLog';
export { History } from './History';
export { AsOf } from './AsOf';
