import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql, type DocumentType } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
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

const RecordMutation = graphql(`
  mutation RecordAttendance($input: RecordAttendanceInput!) {
    recordAttendance(input: $input) {
      ...AttendanceAnswer
    }
  }
`);

const EvaluateMutation = graphql(`
  mutation SubmitEvaluation($input: SubmitEvaluationInput!) {
    submitEvaluation(input: $input) {
      ...AttendanceAnswer
    }
  }
`);

/** What an attendance mutation answers (recording and evaluating select the same fragment). */
type Attendance = DocumentType<typeof AttendanceAnswer>;

/** The answer to an attendance, in words: recorded, and credit awarded or what it waits for. */
function Answer({ attendance }: { attendance: Attendance }) {
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

/** Record attendance by the activity's code (seed 002), then the evaluation when the activity asks for one. */
export function RecordAttendance() {
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [attendance, setAttendance] = useState<Attendance | null>(null);
  const [rating, setRating] = useState('');
  const [objectivesMet, setObjectivesMet] = useState(false);
  const [comments, setComments] = useState('');
  const [{ fetching }, record] = useMutation(RecordMutation);
  const [{ fetching: evaluating }, evaluate] = useMutation(EvaluateMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) => record({ input: { code: code.trim(), commandId } }));
    setErrors(formErrors(result.error));
    setAttendance(result.data?.recordAttendance ?? null);
  };

  const submitEvaluation = async (event: FormEvent) => {
    event.preventDefault();
    if (!attendance) return;
    const result = await command((commandId) =>
      evaluate({
        input: {
          activityId: attendance.activityId,
          rating: Number(rating),
          objectivesMet,
          comments: comments.trim() || null,
          commandId,
        },
      }),
    );
    setErrors(formErrors(result.error));
    if (result.data) setAttendance(result.data.submitEvaluation);
  };

  const again = () => {
    setAttendance(null);
    setCode('');
    setErrors({ fields: {} });
  };

  return (
    <main id="content" className="page narrow">
      <h1>{messages.attendance.title}</h1>
      {attendance ? (
        <>
          <Answer attendance={attendance} />
          <FormAlert message={errors.form} />
          {attendance.pendingReasons.includes('EVALUATION_REQUIRED') && (
            <form onSubmit={(e) => void submitEvaluation(e)} noValidate aria-labelledby="evaluation">
              <h2 id="evaluation">{messages.attendance.evaluation}</h2>
              <Field label={messages.attendance.rating} name="rating" type="number" min={1} max={5} value={rating}
                required error={errors.fields.rating} onChange={(e) => setRating(e.target.value)} />
              <div className="check">
                <input id="objectives" type="checkbox" checked={objectivesMet}
                  onChange={(e) => setObjectivesMet(e.target.checked)} />
                <label htmlFor="objectives">{messages.attendance.objectivesMet}</label>
              </div>
              <Field label={messages.attendance.comments} name="comments" value={comments}
                error={errors.fields.comments} onChange={(e) => setComments(e.target.value)} />
              <button type="submit" disabled={evaluating}>
                {messages.attendance.submitEvaluation}
              </button>
            </form>
          )}
          <button type="button" className="secondary" onClick={again}>
            {messages.attendance.another}
          </button>
        </>
      ) : (
        <>
          <p>{messages.attendance.intro}</p>
          <form onSubmit={(e) => void submit(e)} noValidate>
            <FormAlert message={errors.form} />
            <Field label={messages.attendance.code} name="code" value={code} required autoCapitalize="characters"
              autoComplete="off" error={errors.fields.code} onChange={(e) => setCode(e.target.value)} />
            <button type="submit" disabled={fetching}>
              {fetching ? messages.attendance.busy : messages.attendance.submit}
            </button>
          </form>
        </>
      )}
    </main>
  );
}
