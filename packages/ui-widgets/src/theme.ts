import { css } from 'lit';

/**
 * The custom properties every widget reads, with their defaults. Set them on any ancestor:
 * `--telekit-bg`, `--telekit-fg`, `--telekit-muted`, `--telekit-accent`, `--telekit-danger`,
 * `--telekit-ok`, `--telekit-radius`, `--telekit-font`.
 */
export const theme = css`
  :host {
    --_bg: var(--telekit-bg, #14171c);
    --_fg: var(--telekit-fg, #e8eaed);
    --_muted: var(--telekit-muted, #8a9099);
    --_accent: var(--telekit-accent, #3d8bfd);
    --_danger: var(--telekit-danger, #e5484d);
    --_ok: var(--telekit-ok, #30a46c);
    --_radius: var(--telekit-radius, 8px);
    font: var(--telekit-font, 14px/1.4 system-ui, sans-serif);
    color: var(--_fg);
    box-sizing: border-box;
  }
  button {
    font: inherit;
    color: var(--_fg);
    background: color-mix(in srgb, var(--_fg) 10%, transparent);
    border: 1px solid color-mix(in srgb, var(--_fg) 25%, transparent);
    border-radius: var(--_radius);
    padding: 0.4em 0.9em;
    cursor: pointer;
  }
  button:focus-visible,
  :host(:focus-visible) {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  .message {
    color: var(--_muted);
  }
  .error {
    color: var(--_danger);
  }
`;
