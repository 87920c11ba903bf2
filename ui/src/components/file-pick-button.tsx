/**
 * The + button beside a composer: picks one file and hands it on (the friend's and the group's composers).
 * A hidden file input does the picking, cleared after each pick so the same file can be picked again.
 */
import { useRef } from 'preact/hooks';

export function FilePickButton({ label, onPick }: { label: string; onPick: (file: File) => void }) {
  const picker = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        type="file"
        ref={picker}
        hidden
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (file !== undefined) onPick(file);
        }}
      />
      <button
        type="button"
        class="icon-button"
        aria-label={label}
        title="Send a file"
        onClick={() => picker.current?.click()}
      >
        <span aria-hidden="true">+</span>
      </button>
    </>
  );
}
