import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Field } from '../../components';
import { personName } from '../../format';
import { messages } from '../../messages';

/** A patient with a portal account, as the staff pages act for them. */
export interface PickedPatient {
  accountId: string;
  name: string;
}

const PickerQuery = graphql(`
  query PatientPicker($search: String) {
    patients(search: $search, first: 10) {
      id
      clinicNumber
      firstName
      lastName
      accountId
    }
  }
`);

/** Finds a patient by name or clinic number and picks one with a portal account (staff book and bill for them). */
export function PatientPicker({ picked, onPick }: {
  picked: PickedPatient | undefined;
  onPick: (patient: PickedPatient | undefined) => void;
}) {
  const t = messages.staff.picker;
  const [search, setSearch] = useState('');
  const [{ data }] = useQuery({ query: PickerQuery, variables: { search }, pause: search.trim().length < 2 });
  if (picked) {
    return (
      <p className="actions">
        <strong>{t.chosen(picked.name)}</strong>
        <button type="button" className="secondary small" onClick={() => onPick(undefined)}>
          {t.other}
        </button>
      </p>
    );
  }
  return (
    <>
      <Field label={t.search} name="search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      {data && data.patients.length === 0 && <p>{t.none}</p>}
      <ul className="links">
        {data?.patients.map((patient) => {
          const name = personName(patient);
          return (
            <li key={patient.id}>
              {patient.accountId ? (
                <button type="button" className="secondary small"
                  onClick={() => onPick({ accountId: patient.accountId ?? '', name })}>
                  {t.choose(name, patient.clinicNumber ?? '')}
                </button>
              ) : (
                `${name} (${patient.clinicNumber ?? ''}): ${t.noAccount}`
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
