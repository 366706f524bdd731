// The parts every form shares: labelled fields whose errors are tied to them, and an alert that screen readers
// announce.
import { useId, type InputHTMLAttributes } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  error?: string | undefined;
}

/** A labelled input; its error is shown under it, tied by aria-describedby. */
export function Field({ label, error, 'aria-describedby': describedBy, ...input }: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const described = [error ? errorId : undefined, describedBy].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input {...input} id={id} aria-invalid={error ? true : undefined} aria-describedby={described || undefined} />
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The form's message, announced when it appears. */
export function FormAlert({ message }: { message?: string | undefined }) {
  return (
    <div role="alert" className={message ? 'alert' : undefined}>
      {message}
    </div>
  );
}
