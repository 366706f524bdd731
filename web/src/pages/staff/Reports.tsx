import { useState } from 'react';
import { messages } from '../../messages';
import { Field } from '../../components';

/** Board reporting: the completions of learners who consented, as a CSV file for a date range. */
export function Reports() {
  const t = messages.staff.reports;
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = new URLSearchParams();
  if (from) query.set('from', from);
  if (to) query.set('to', to);
  const search = query.toString();
  return (
    <main id="content" className="narrow">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <form className="filters" aria-label={t.range} onSubmit={(e) => e.preventDefault()}>
        <Field label={t.from} name="from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <Field label={t.to} name="to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
      </form>
      <p>
        <a href={`/reports/board-completions.csv${search ? `?${search}` : ''}`} download>
          {t.download}
        </a>
      </p>
    </main>
  );
}
