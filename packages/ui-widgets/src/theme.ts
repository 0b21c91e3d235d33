import { css, unsafeCSS } from 'lit';
import { themeProperties } from './theme-properties.js';

/** `--_bg: var(--telekit-bg, light-dark(#fff, #1b1f26));` for every colour of the theme. */
const colours = Object.entries(themeProperties)
  .map(
    ([name, p]) => `--_${name.slice('--telekit-'.length)}: var(${name}, light-dark(${p.light}, ${p.dark}));`,
  )
  .join('\n');

/**
 * The styles every widget shares: the custom properties it reads (see {@link themeProperties} for
 * each one and its defaults: `--telekit-bg`, `--telekit-fg`, `--telekit-muted`, `--telekit-accent`,
 * `--telekit-focus`, `--telekit-danger`, `--telekit-ok`, `--telekit-border`, `--telekit-estop-*`,
 * `--telekit-radius`, `--telekit-font`), buttons, and a visible focus ring.
 *
 * Colours left unset follow the CSS `color-scheme` the widget inherits (`light-dark()`): a page with
 * `color-scheme: light dark` gets light or dark widgets as the system says, `color-scheme: dark`
 * dark ones.
 */
export const theme = css`
  :host {
    ${unsafeCSS(colours)}
    --_radius: var(--telekit-radius, 8px);
    font: var(--telekit-font, 14px/1.4 system-ui, sans-serif);
    color: var(--_fg);
    box-sizing: border-box;
  }
  button {
    font: inherit;
    color: var(--_fg);
    background: color-mix(in srgb, var(--_fg) 8%, var(--_bg));
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.4em 0.9em;
    min-height: 2.5em;
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    background: color-mix(in srgb, var(--_fg) 14%, var(--_bg));
  }
  :focus-visible,
  :host(:focus-visible) {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  button:disabled {
    opacity: 0.6;
    cursor: not-allowed;
  }
  .message {
    color: var(--_muted);
  }
  .error {
    color: var(--_danger);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
