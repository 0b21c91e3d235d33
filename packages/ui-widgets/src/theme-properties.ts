/** One custom property of the widgets' theme: its value in each scheme, and what it colours. */
export interface ThemeProperty {
  /** The value in the light scheme. */
  readonly light: string;
  /** The value in the dark scheme. */
  readonly dark: string;
  /** What the widgets use it for. */
  readonly about: string;
}

/**
 * The custom properties the widgets read, with their light and dark defaults: the single source of
 * the widgets' styles ({@link theme}), the example pages' stylesheet and the README's table. Every
 * text colour meets WCAG AA (4.5:1) on `--telekit-bg` in its scheme, and on `--telekit-page-bg`.
 *
 * Set any of them on an ancestor of the widgets (`:root`, or one element) to restyle them; left
 * unset, a widget takes the value of the scheme it is in: `light-dark()` follows the CSS
 * `color-scheme` it inherits (`color-scheme: light dark` on the page follows the system).
 */
export const themeProperties = {
  '--telekit-bg': { light: '#ffffff', dark: '#1b1f26', about: 'a widget’s background (and the 3D view’s)' },
  '--telekit-fg': { light: '#1b1f24', dark: '#e8eaed', about: 'text' },
  '--telekit-muted': {
    light: '#59636e',
    dark: '#9ba3ae',
    about: 'secondary text: labels, notes, the return trip in the waterfall',
  },
  '--telekit-accent': {
    light: '#0a5bd3',
    dark: '#4c9aff',
    about: 'the stick’s knob, the waterfall’s bars',
  },
  '--telekit-focus': {
    light: '#0a5bd3',
    dark: '#8ab4ff',
    about: 'the focus ring of every control (keyboard focus)',
  },
  '--telekit-danger': {
    light: '#b42318',
    dark: '#ff6b6b',
    about: 'a link down, the e-stop latched, errors, the latency budget exceeded',
  },
  '--telekit-ok': {
    light: '#18794e',
    dark: '#4ac26b',
    about: 'a link up, the total within the budget, the hold-to-clear progress',
  },
  '--telekit-border': {
    light: '#c3cbd4',
    dark: '#3a4250',
    about: 'outlines of buttons, the stick, panels',
  },
  '--telekit-estop-bg': {
    light: '#c4161c',
    dark: '#c4161c',
    about: 'the STOP button (red in both schemes: an e-stop looks like one)',
  },
  '--telekit-estop-fg': { light: '#ffffff', dark: '#ffffff', about: 'the STOP button’s label' },
  '--telekit-estop-ring': {
    light: '#f5c400',
    dark: '#f5c400',
    about: 'the STOP button’s yellow collar',
  },
  '--telekit-page-bg': {
    light: '#eef1f4',
    dark: '#0f1217',
    about: 'the page behind the widgets (the example pages’ stylesheet)',
  },
} as const satisfies Record<string, ThemeProperty>;

/** The name of a theme property, e.g. `--telekit-bg`. */
export type ThemePropertyName = keyof typeof themeProperties;

/** Properties that are not colours, with their defaults (the same in both schemes). */
export const themeSizes = {
  '--telekit-radius': { value: '8px', about: 'corner radius of widgets and buttons' },
  '--telekit-font': { value: '14px/1.4 system-ui, sans-serif', about: 'the widgets’ font' },
  '--telekit-stick-size': {
    value: '160px (180px on a touch screen)',
    about: 'the teleop pad’s stick, sized for a thumb',
  },
  '--telekit-estop-size': {
    value: '64px',
    about: 'the STOP button’s height (and least width, ×2)',
  },
} as const;

/** `name: value;` for every colour of one scheme, for a stylesheet. */
export function themeDeclarations(scheme: 'light' | 'dark'): string {
  return Object.entries(themeProperties)
    .map(([name, p]) => `${name}: ${p[scheme]};`)
    .join(' ');
}
