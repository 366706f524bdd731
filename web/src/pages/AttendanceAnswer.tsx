// What recording attendance, evaluating and claiming credit answer, and how the portal says it.
import { graphql, type DocumentType } from '../gql';
import { messages } from '../messages';

/** What an attendance mutation answers, selected the same way by recording and by evaluating. */
export const AttendanceAnswer = graphql(`
  fragment AttendanceAnswer on AttendancePayload {
    activityId
    activityTitle
    status
    pendingReasons
    missingProfileFields
    credits {
      type
      label
      amount
    }
    transcriptEntries {
      id
      activityId
      status
      pendingReasons
    }
  }
`);

/** What an attendance mutation answers (recording and evaluating select the same fragment). */
export type Attendance = DocumentType<typeof AttendanceAnswer>;

/** The answer to an attendance, in words: recorded, and credit awarded or what it waits for. */
export function Answer({ attendance }: { attendance: Attendance }) {
  const credits = attendance.credits.map((c) => `${c.amount} ${c.label}`).join(', ');
  return (
    <div role="status" className="answer">
      <p>{messages.attendance.recorded(attendance.activityTitle)}</p>
      {attendance.status === 'AWARDED' ? (
        <p>{messages.attendance.awarded(credits)}</p>
      ) : (
        <>
          <p>{messages.attendance.pending}</p>
          <ul>
            {attendance.pendingReasons.map((reason) => (
              <li key={reason}>{messages.attendance.reasons[reason] ?? reason}</li>
            ))}
          </ul>
          {attendance.missingProfileFields.length > 0 && (
            <p>
              {messages.attendance.missing(
                attendance.missingProfileFields.map((f) => messages.attendance.profileFields[f] ?? f).join(', '),
              )}
            </p>
          )}
        </>
      )}
    </div>
  );
}
