// What the live pages share: a subscription's value that changes means the page's reads are out of date.
import { useEffect, useRef } from 'react';

/**
 * Calls `changed` each time `value` changes after its first known value: the first comes with the page's own read,
 * a later one means what the page shows changed on the server.
 */
export function useOnChange<T>(value: T | undefined, changed: () => void): void {
  const seen = useRef<T | undefined>(undefined);
  useEffect(() => {
    if (value === undefined) return;
    if (seen.current !== undefined && seen.current !== value) changed();
    seen.current = value;
  }, [value, changed]);
}
