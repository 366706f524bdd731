// The parts every form shares: labelled fields whose errors are tied to them, and an alert that screen readers
// announce.
import { useId, type InputHTMLAttributes, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { NavLink } from 'react-router';

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

interface TextAreaProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  error?: string | undefined;
}

/** A labelled text of several lines, its error tied to it like a Field's. */
export function TextArea({ label, error, ...area }: TextAreaProps) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea {...area} id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} />
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

/** The choices of a SelectField or Choice from a catalogue's labels by value. */
export const optionsOf = (labels: Record<string, string>) =>
  Object.entries(labels).map(([value, label]) => ({ value, label }));

interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  options: readonly { value: string; label: string }[];
  /** The first, empty choice ("Choose…"): the answer is still missing. */
  placeholder: string;
  error?: string | undefined;
}

/** A labelled choice from a list, its error tied to it like a Field's. */
export function SelectField({ label, options, placeholder, error, ...select }: SelectProps) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select {...select} id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined}>
        <option value="">{placeholder}</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A question answered by one of a few choices (radio buttons in a fieldset whose legend is the question). */
export function Choice({
  legend,
  name,
  options,
  value,
  onChange,
  error,
}: {
  legend: string;
  name: string;
  options: readonly { value: string; label: string }[];
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <fieldset className="choice" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <div className="check" key={option.value}>
          <input id={`${id}-${option.value}`} type="radio" name={name} value={option.value}
            checked={value === option.value} onChange={() => onChange(option.value)} />
          <label htmlFor={`${id}-${option.value}`}>{option.label}</label>
        </div>
      ))}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** What a form did, announced politely when it appears. */
export function Done({ message }: { message?: string | undefined }) {
  return (
    <div role="status" className={message ? 'success' : undefined}>
      {message}
    </div>
  );
}

/** One page of an area's menu; `end` marks the area's own page, current only at its exact address. */
export interface SubPage {
  to: string;
  label: string;
  end?: boolean;
}

/** The menu of an area's pages (the profile, the staff pages), the current one marked. */
export function SubNav({ label, pages }: { label: string; pages: readonly SubPage[] }) {
  return (
    <nav aria-label={label} className="subnav">
      <ul>
        {pages.map((page) => (
          <li key={page.to}>
            <NavLink to={page.to} end={page.end ?? false}>
              {page.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
