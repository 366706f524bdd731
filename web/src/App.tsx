import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useSearchParams } from 'react-router';
import { pinnedOrganization } from './deployment';
import { Chooser } from './pages/Chooser';
import { OrganizationLayout } from './pages/OrganizationLayout';
import { SignIn } from './pages/SignIn';
import { Home } from './pages/Home';
import { Register } from './pages/Register';
import { Registered } from './pages/Registered';
import { SignUp } from './pages/SignUp';
import { Activate } from './pages/Activate';
import { OrganizationActivate, OrganizationConfirmEmail, OrganizationResetPassword } from './pages/OrganizationLinks';
import { ConfirmEmail } from './pages/ConfirmEmail';
import { ForgotPassword, ForgotUsername } from './pages/ForgotPassword';
import { ResetPassword } from './pages/ResetPassword';
import { RecordAttendance } from './pages/RecordAttendance';
import { Evaluate } from './pages/Evaluation';
import { Transcript } from './pages/Transcript';
import { Calendar } from './pages/Calendar';
import { ActivityDetail } from './pages/ActivityDetail';
import { ProfileArea, useAreaAccount } from './pages/profile/ProfileArea';
import { ProfessionalProfile } from './pages/profile/ProfessionalProfile';
import { ChangeName } from './pages/profile/ChangeName';
import { ChangePassword } from './pages/profile/ChangePassword';
import { ChangeEmail } from './pages/profile/ChangeEmail';
import { Phones } from './pages/profile/Phones';
import { Devices } from './pages/profile/Devices';
import { TwoStep } from './pages/profile/TwoStep';
import { Billing } from './pages/patient/Billing';
import { Medications } from './pages/patient/Medications';
import { Results } from './pages/patient/Results';
import { Appointments } from './pages/patient/Appointments';
import { Book } from './pages/patient/Book';
import { WaitList } from './pages/patient/WaitList';
import { Access } from './pages/patient/Access';
import { Conversation, Messages as PatientMessages } from './pages/patient/Messages';
import { messages } from './messages';

type StaffPages = typeof import('./pages/staff/pages');
type CarePages = typeof import('./pages/care/pages');
type AuditPages = typeof import('./pages/audit/pages');

/** A staff page, loaded with the others the first time one is opened. */
const staffPage = (name: keyof StaffPages) =>
  lazy(() => import('./pages/staff/pages').then((pages) => ({ default: pages[name] })));

/** A care team's page, loaded with the others the first time one is opened. */
const carePage = (name: keyof CarePages) =>
  lazy(() => import('./pages/care/pages').then((pages) => ({ default: pages[name] })));

const StaffArea = staffPage('StaffArea');
const Schedule = staffPage('Schedule');
const SignInSheet = staffPage('SignInSheet');
const LockedAccounts = staffPage('LockedAccounts');
const SignInAttempts = staffPage('SignInAttempts');
const Invite = staffPage('Invite');
const Settings = staffPage('Settings');
const Messages = staffPage('Messages');
const Deliveries = staffPage('Deliveries');
const Reports = staffPage('Reports');
const Patients = staffPage('Patients');
const SignUpRequests = staffPage('SignUpRequests');
const Day = staffPage('Day');
const CatalogueSetup = staffPage('Catalogue');
const Statements = staffPage('Statements');
const Policies = staffPage('Policies');
const CareArea = carePage('CareArea');
const Inbox = carePage('Inbox');
const CareConversation = carePage('CareConversation');
const HeldResults = carePage('HeldResults');
const Renewals = carePage('Renewals');
const PatientMedications = carePage('PatientMedications');

/** An auditor's page, loaded with the others the first time one is opened. */
const auditPage = (name: keyof AuditPages) =>
  lazy(() => import('./pages/audit/pages').then((pages) => ({ default: pages[name] })));
const AuditArea = auditPage('AuditArea');
const AccessLog = auditPage('AccessLog');
const History = auditPage('History');
const AsOf = auditPage('AsOf');

/** An area loaded on first use, with the wait said while it loads. */
function Loading({ children }: { children: ReactNode }) {
  return <Suspense fallback={<p className="page">{messages.loading}</p>}>{children}</Suspense>;
}

/** `/register?organization=<code>`, as older e-mails link it: the organization's Create account page. */
function RegisterLink() {
  const code = useSearchParams()[0].get('organization');
  return <Navigate to={code ? `/o/${encodeURIComponent(code)}/register` : '/'} replace />;
}

/** The profile area's own page: the professional profile, or for a patient (who has none) the password. */
function ProfileHome() {
  return useAreaAccount().role === 'PATIENT' ? <Navigate to="password" replace /> : <ProfessionalProfile />;
}

/** On a deployment pinned to one organization, a page outside its portal opens the same page inside it. */
function InPinned({ page = '', children }: { page?: string; children: ReactNode }) {
  const { search } = useLocation();
  if (!pinnedOrganization) return children;
  return <Navigate to={`/o/${pinnedOrganization}/${page}${search}`} replace />;
}

/** The portals' routes: each organization's portal lives under its code. */
export function App() {
  return (
    <Routes>
      <Route path="/" element={<InPinned><Chooser /></InPinned>} />
      <Route path="/register" element={<RegisterLink />} />
      <Route path="/activate" element={<InPinned page="activate"><Activate /></InPinned>} />
      <Route path="/reset-password" element={<InPinned page="reset-password"><ResetPassword /></InPinned>} />
      <Route path="/confirm-email" element={<InPinned page="confirm-email"><ConfirmEmail /></InPinned>} />
      <Route path="/o/:code" element={<OrganizationLayout />}>
        <Route index element={<Home />} />
        <Route path="sign-in" element={<SignIn />} />
        <Route path="register" element={<Register />} />
        <Route path="registered" element={<Registered />} />
        <Route path="sign-up" element={<SignUp />} />
        <Route path="activate" element={<OrganizationActivate />} />
        <Route path="forgot-password" element={<ForgotPassword />} />
        <Route path="forgot-username" element={<ForgotUsername />} />
        <Route path="reset-password" element={<OrganizationResetPassword />} />
        <Route path="confirm-email" element={<OrganizationConfirmEmail />} />
        <Route path="attendance" element={<RecordAttendance />} />
        <Route path="evaluate/:activityId" element={<Evaluate />} />
        <Route path="transcript" element={<Transcript />} />
        <Route path="calendar" element={<Calendar />} />
        <Route path="billing" element={<Billing />} />
        <Route path="medications" element={<Medications />} />
        <Route path="results" element={<Results />} />
        <Route path="appointments" element={<Appointments />} />
        <Route path="appointments/book" element={<Book />} />
        <Route path="appointments/wait-list" element={<WaitList />} />
        <Route path="messages" element={<PatientMessages />} />
        <Route path="access" element={<Access />} />
        <Route path="messages/:conversationId" element={<Conversation />} />
        <Route path="calendar/:activityId" element={<ActivityDetail />} />
        <Route path="profile" element={<ProfileArea />}>
          <Route index element={<ProfileHome />} />
          <Route path="name" element={<ChangeName />} />
          <Route path="password" element={<ChangePassword />} />
          <Route path="email" element={<ChangeEmail />} />
          <Route path="phones" element={<Phones />} />
          <Route path="two-step" element={<TwoStep />} />
          <Route path="devices" element={<Devices />} />
        </Route>
        <Route path="staff" element={<Loading><StaffArea /></Loading>}>
          <Route index element={<Schedule />} />
          <Route path="sign-in-sheet" element={<SignInSheet />} />
          <Route path="locked" element={<LockedAccounts />} />
          <Route path="attempts/:accountId" element={<SignInAttempts />} />
          <Route path="invite" element={<Invite />} />
          <Route path="settings" element={<Settings />} />
          <Route path="messages" element={<Messages />} />
          <Route path="deliveries" element={<Deliveries />} />
          <Route path="reports" element={<Reports />} />
          <Route path="patients" element={<Patients />} />
          <Route path="sign-up-requests" element={<SignUpRequests />} />
          <Route path="day" element={<Day />} />
          <Route path="catalogue" element={<CatalogueSetup />} />
          <Route path="statements" element={<Statements />} />
          <Route path="policies" element={<Policies />} />
        </Route>
        <Route path="care" element={<Loading><CareArea /></Loading>}>
          <Route index element={<Inbox />} />
          <Route path=":conversationId" element={<CareConversation />} />
          <Route path="results" element={<HeldResults />} />
          <Route path="renewals" element={<Renewals />} />
          <Route path="patients/:patientId/medications" element={<PatientMedications />} />
        </Route>
        <Route path="audit" element={<Loading><AuditArea /></Loading>}>
          <Route index element={<AccessLog />} />
          <Route path="history" element={<History />} />
          <Route path="as-of" element={<AsOf />} />
        </Route>
      </Route>
      <Route path="*" element={<InPinned><Chooser /></InPinned>} />
    </Routes>
  );
}
