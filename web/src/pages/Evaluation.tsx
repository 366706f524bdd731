import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { messages } from '../messages';
import { Answer, type Attendance } from './AttendanceAnswer';
import { useOrganization } from './OrganizationLayout';

const EvaluateMutation = graphql(`
  mutation SubmitEvaluation($input: SubmitEvaluationInput!) {
    submitEvaluation(input: $input) {
      ...AttendanceAnswer
    }
  }
`);

/** The evaluation of an attended activity; its answer (credit awarded, or what it still waits for) goes to `onEvaluated`. */
export function EvaluationForm({ activityId, onEvaluated }: { activityId: string; onEvaluated: (a: Attendance) => void }) {
  const [rating, setRating] = useState('');
  const [objectivesMet, setObjectivesMet] = useState(false);
  const [comments, setComments] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [{ fetching }, evaluate] = useMutation(EvaluateMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) =>
      evaluate({
        input: { activityId, rating: Number(rating), objectivesMet, comments: comments.trim() || null, commandId },
      }),
    );
    setErrors(formErrors(result.error, ['activityId']));
    if (result.data) onEvaluated(result.data.submitEvaluation);
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="evaluation">
      <h2 id="evaluation">{messages.attendance.evaluation}</h2>
      <FormAlert message={errors.form} />
      <Field label={messages.attendance.rating} name="rating" type="number" min={1} max={5} value={rating} required
        error={errors.fields.rating} onChange={(e) => setRating(e.target.value)} />
      <div className="check">
        <input id="objectives" type="checkbox" checked={objectivesMet} onChange={(e) => setObjectivesMet(e.target.checked)} />
        <label htmlFor="objectives">{messages.attendance.objectivesMet}</label>
      </div>
      <Field label={messages.attendance.comments} name="comments" value={comments} error={errors.fields.comments}
        onChange={(e) => setComments(e.target.value)} />
      <button type="submit" disabled={fetching}>
        {messages.attendance.submitEvaluation}
      </button>
    </form>
  );
}

/** `/o/<code>/evaluate/<activityId>`: the evaluation of an activity on the transcript, then its answer. */
export function Evaluate() {
  const organization = useOrganization();
  const { activityId = '' } = useParams();
  const [attendance, setAttendance] = useState<Attendance | null>(null);
  return (
    <main id="content" className="page narrow">
      <h1>{messages.attendance.evaluation}</h1>
      {attendance ? (
        <Answer attendance={attendance} />
      ) : (
        <EvaluationForm activityId={activityId} onEvaluated={setAttendance} />
      )}
      <p>
        <Link to={`/o/${organization.code}/transcript`}>{messages.transcript.back}</Link>
      </p>
    </main>
  );
}
