import { css, html, LitElement } from 'lit';
import { defineElement } from './base.js';
import { theme } from './theme.js';

/** A theme: the page's colour scheme. */
export type ThemeName = 'light' | 'dark';

const SYSTEM_DARK = '(prefers-color-scheme: dark)';

/**
 * `<telekit-theme-toggle>`: a "Dark theme" toggle button (`aria-pressed`) for the page. Until the
 * operator presses it the page follows the system (`prefers-color-scheme`, also when that changes);
 * a choice is kept in `localStorage` (`storage-key`, default `telekit-theme`) and applies at the next
 * visit. Choosing what the system says forgets the choice (the page follows the system again).
 *
 * It sets `data-theme="light|dark"` and `color-scheme` on the document's root element: the widgets'
 * colours follow `color-scheme` (see {@link themeProperties}), and a page's own stylesheet can key
 * off `data-theme` (the examples' `/telekit.css` does).
 *
 * Attributes: `storage-key`. Events: `telekit-theme` (`detail: { theme, chosen }`; `chosen` is false
 * while following the system).
 */
export class TelekitThemeToggle extends LitElement {
  static override properties = {
    storageKey: { type: String, attribute: 'storage-key' },
    _theme: { state: true },
  };
  declare storageKey: string;
  declare _theme: ThemeName;
  #media: MediaQueryList | undefined;
  /** The choice, where localStorage cannot keep it (it then lasts as long as the page). */
  #unstored: ThemeName | undefined;

  static override styles = [
    theme,
    css`
      :host {
        display: inline-block;
      }
      button {
        display: inline-flex;
        align-items: center;
        gap: 0.4em;
        white-space: nowrap;
      }
      .icon {
        font-size: 1.15em;
        line-height: 1;
      }
      /* On a phone: the icon only (the button keeps its name for screen readers). */
      @media (max-width: 599px) {
        .label {
          position: absolute;
          width: 1px;
          height: 1px;
          overflow: hidden;
          clip-path: inset(50%);
          white-space: nowrap;
        }
        button {
          padding: 0.4em 0.7em;
        }
      }
    `,
  ];

  constructor() {
    super();
    this.storageKey = 'telekit-theme';
    this._theme = 'light';
  }

  /** The theme in force. */
  get theme(): ThemeName {
    return this._theme;
  }

  /** The operator's stored choice, or undefined while the page follows the system. */
  get chosen(): ThemeName | undefined {
    const v = read(this.storageKey) ?? this.#unstored;
    return v === 'light' || v === 'dark' ? v : undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#media = matchMedia(SYSTEM_DARK);
    this.#media.addEventListener('change', this.#apply);
    this.#apply();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#media?.removeEventListener('change', this.#apply);
  }

  /** Switches to `to` (default: the other theme) and remembers it, unless it is the system's. */
  toggle(to: ThemeName = this._theme === 'dark' ? 'light' : 'dark'): void {
    const system: ThemeName = this.#media?.matches ? 'dark' : 'light';
    const choice = to === system ? undefined : to;
    this.#unstored = write(this.storageKey, choice) ? undefined : choice;
    this.#apply();
  }

  #apply = () => {
    const system: ThemeName = this.#media?.matches ? 'dark' : 'light';
    const chosen = this.chosen;
    const next = chosen ?? system;
    const root = document.documentElement;
    root.dataset.theme = next;
    root.style.colorScheme = next;
    const changed = next !== this._theme || !this.hasUpdated;
    this._theme = next;
    if (changed)
      this.dispatchEvent(
        new CustomEvent('telekit-theme', {
          detail: { theme: next, chosen: chosen !== undefined },
          bubbles: true,
          composed: true,
        }),
      );
  };

  override render() {
    const dark = this._theme === 'dark';
    return html`<button type="button" aria-pressed=${dark ? 'true' : 'false'} @click=${() => this.toggle()}>
      <span class="icon" aria-hidden="true">${dark ? '☾' : '☀'}</span><span class="label">Dark theme</span>
    </button>`;
  }
}

/** localStorage, where the page may use it (not in some private modes, nor sandboxed frames). */
function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Whether it was stored. */
function write(key: string, value: string | undefined): boolean {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

defineElement('telekit-theme-toggle', TelekitThemeToggle);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-theme-toggle': TelekitThemeToggle;
  }
}
