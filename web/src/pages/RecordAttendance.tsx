import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { messages } from '../messages';
import { Answer, type Attendance } from './AttendanceAnswer';
import { EvaluationForm } from './Evaluation';
import { TextingInstructions } from './TextingInstructions';

const RecordMutation = graphql(`
  mutation RecordAttendance($input: RecordAttendanceInput!) {
    recordAttendance(input: $input) {
      ...AttendanceAnswer
    }
  }
`);

/** Record attendance by the activity's code (seed 002), then the evaluation when the activity asks for one. */
export function RecordAttendance() {
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [attendance, setAttendance] = useState<Attendance | null>(null);
  const [{ fetching }, record] = useMutation(RecordMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) => record({ input: { code: code.trim(), commandId } }));
    setErrors(formErrors(result.error));
    setAttendance(result.data?.recordAttendance ?? null);
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
            <EvaluationForm activityId={attendance.activityId} onEvaluated={setAttendance} />
          )}
          <button type="button" className="secondary" onClick={again}>
            {messages.attendance.another}
          </button>
        </>
      ) : (
        <>
          <p>{messages.attendance.intro}</p>
          <form onSubmit={(e) => void submit(e)} noValidate aria-label={messages.attendance.title}>
            <FormAlert message={errors.form} />
            <Field label={messages.attendance.code} name="code" value={code} required autoCapitalize="characters"
              autoComplete="off" error={errors.fields.code} onChange={(e) => setCode(e.target.value)} />
            <button type="submit" disabled={fetching}>
              {fetching ? messages.attendance.busy : messages.attendance.submit}
            </button>
          </form>
          <TextingInstructions />
        </>
      )}
    </main>
  );
}
