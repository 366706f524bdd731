import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { Field } from '../components';
import { messages } from '../messages';

/** The front door: people type their organization's code. */
export function Chooser() {
  const [code, setCode] = useState('');
  const navigate = useNavigate();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = code.trim().toLowerCase();
    if (trimmed) void navigate(`/o/${encodeURIComponent(trimmed)}/sign-in`);
  };
  return (
    <main id="content" className="page narrow">
      <h1>{messages.chooser.title}</h1>
      <p>{messages.chooser.intro}</p>
      <form onSubmit={submit}>
        <Field label={messages.chooser.code} name="organization" value={code} required autoComplete="organization"
          onChange={(e) => setCode(e.target.value)} />
        <button type="submit">{messages.chooser.submit}</button>
      </form>
    </main>
  );
}
