/** Copies a text to the clipboard and says so (visibly, and to screen readers). */
import { useState } from 'preact/hooks';
import { announce } from '../state/announcer.ts';

export function CopyButton({ text, label, what }: { text: string; label: string; what: string }) {
  const [isCopied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      announce(`${what} copied`);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      announce(`could not copy: select the ${what} and copy it by hand`);
    }
  };
  return (
    <button type="button" onClick={() => void copy()}>
      {isCopied ? 'Copied' : label}
    </button>
  );
}
