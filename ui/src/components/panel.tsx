/**
 * A screen opened from the menu: a back button and its title (the heading navigation focuses, by `titleId`),
 * then what the screen shows.
 */
import type { ComponentChildren } from 'preact';
import { BackButton } from './back-button.tsx';

export function Panel({
  titleId,
  title,
  children,
}: {
  titleId: string;
  title: string;
  children: ComponentChildren;
}) {
  return (
    <section class="panel" aria-labelledby={titleId}>
      <div class="panel-header">
        <BackButton />
        <h1 id={titleId} tabIndex={-1}>
          {title}
        </h1>
      </div>
      {children}
    </section>
  );
}
