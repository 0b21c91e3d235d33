import { themeDeclarations } from '../theme-properties.js';

const light = themeDeclarations('light');
const dark = themeDeclarations('dark');

/**
 * The layout the example pages share, served by {@link webPage} at `/telekit.css`:
 *
 * - **Themes**: light and dark from the widgets' theme properties (`themeProperties`), following
 *   the system (`prefers-color-scheme`) until `data-theme="light|dark"` on the root element says
 *   otherwise (`<telekit-theme-toggle>` sets it); every text colour meets WCAG AA.
 *   The 3D view stays dark in both (a viewport, like the camera's picture).
 * - **A sticky header** (title, badges, the theme toggle, the e-stop): the e-stop stays in view
 *   however far the page scrolls, on every screen.
 * - **Layouts**: `main.operator` places `.view` (the robot: the 3D view, the camera), `.drive`
 *   (the teleop pad), `.side` (link health, anything else) and `.plot` by the screen: two columns on
 *   a desktop or a tablet held sideways, the pad beside the link panel under the view on a tablet
 *   held upright, one column on a phone (the view, then the pad within the first screen, then the
 *   lease's button), the view
 *   beside the pad on a phone held sideways. Other pages' `main` is a two-column grid of `.column`s,
 *   one column on narrow screens.
 * - A banner for connection trouble (`#banner`, shown with the `shown` class), `.badge`, `.panel`
 *   and a visible keyboard focus on everything.
 */
export const PAGE_CSS = `:root {
  color-scheme: light;
  ${light}
}
@media (prefers-color-scheme: dark) {
  :root:not([data-theme='light']) {
    color-scheme: dark;
    ${dark}
  }
}
:root[data-theme='dark'] {
  color-scheme: dark;
  ${dark}
}
/* The 3D view is a dark viewport in both themes, as the camera's picture is (its background is
   read once, when it starts drawing). */
telekit-sim-view {
  color-scheme: dark;
  ${dark}
}
*,
*::before,
*::after {
  box-sizing: border-box;
}
body {
  margin: 0;
  background: var(--telekit-page-bg);
  color: var(--telekit-fg);
  font: 14px/1.4 system-ui, sans-serif;
}
a {
  color: var(--telekit-accent);
}
:focus-visible {
  outline: 3px solid var(--telekit-focus);
  outline-offset: 2px;
}
button,
input,
select {
  font: inherit;
  color: inherit;
}
button {
  background: color-mix(in srgb, var(--telekit-fg) 8%, var(--telekit-bg));
  border: 1px solid var(--telekit-border);
  border-radius: 8px;
  padding: 0.4em 0.9em;
  min-height: 2.5em;
  cursor: pointer;
}
input {
  background: var(--telekit-bg);
  border: 1px solid var(--telekit-border);
  border-radius: 6px;
  padding: 0.3em 0.5em;
}
header {
  position: sticky;
  top: 0;
  z-index: 10;
  display: flex;
  align-items: center;
  gap: 0.5em 1em;
  padding: 0.5em 1em;
  background: var(--telekit-page-bg);
  border-bottom: 1px solid var(--telekit-border);
}
/* Whatever comes first (the title) takes the room left and wraps inside; the e-stop and the
   theme toggle keep their size, on one line with it. */
header > :first-child {
  flex: 1 1 auto;
  min-width: 0;
}
header > telekit-estop,
header > telekit-theme-toggle {
  flex: none;
}
header h1 {
  font-size: 1.1em;
  margin: 0;
}
header .title {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.3em 1em;
}
.badges {
  display: flex;
  flex-wrap: wrap;
  gap: 0.4em;
  min-width: 0;
}
.badge {
  padding: 0.15em 0.6em;
  border-radius: 4px;
  background: var(--telekit-bg);
  border: 1px solid var(--telekit-border);
  font-size: 0.9em;
}
#banner {
  padding: 0.5em 1em;
  background: var(--telekit-danger);
  color: var(--telekit-bg);
  display: none;
}
#banner.shown {
  display: block;
}
main {
  display: grid;
  grid-template-columns: minmax(320px, 2fr) minmax(280px, 1fr);
  gap: 1em;
  padding: 1em;
}
.column {
  display: flex;
  flex-direction: column;
  gap: 1em;
  min-width: 0;
}
.panel {
  background: var(--telekit-bg);
  border: 1px solid var(--telekit-border);
  border-radius: 8px;
  overflow: hidden;
}
.panel-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.5em 1em;
  padding: 0.4em 0.75em;
}
.panel-head .note {
  flex: 1 1 12em;
  color: var(--telekit-muted);
}
[hidden] {
  display: none !important;
}
main.operator {
  grid-template-columns: minmax(0, 2fr) minmax(300px, 1fr);
  grid-template-areas:
    'view drive'
    'view side'
    'camera side'
    'plot side';
  grid-template-rows: auto 1fr auto auto;
  align-items: start;
}
.operator > .view {
  grid-area: view;
}
.operator > .camera {
  grid-area: camera;
}
.operator > .drive {
  grid-area: drive;
}
.operator > .side {
  grid-area: side;
}
.operator > .plot {
  grid-area: plot;
}
.operator > section:not(.panel) {
  display: flex;
  flex-direction: column;
  gap: 1em;
  min-width: 0;
}
.drive {
  align-items: center;
}
.drive telekit-teleop-pad {
  width: 100%;
}
@media (max-width: 899px) {
  main {
    grid-template-columns: minmax(0, 1fr);
  }
  main.operator {
    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    grid-template-rows: auto;
    grid-template-areas:
      'view view'
      'drive side'
      'camera camera'
      'plot plot';
  }
}
@media (max-width: 599px) {
  header h1 {
    font-size: 1em;
  }
  main,
  main.operator {
    padding: 0.6em;
    gap: 0.6em;
  }
  main.operator {
    grid-template-columns: minmax(0, 1fr);
    grid-template-areas: 'view' 'drive' 'side' 'camera' 'plot';
  }
  header {
    padding: 0.4em 0.6em;
    gap: 0.5em;
  }
  .badge {
    font-size: 0.8em;
  }
}
/* A phone (or a small tablet) held sideways: the view beside the pad, both within the screen. */
@media (orientation: landscape) and (max-height: 599px) {
  header {
    padding: 0.3em 0.8em;
  }
  header h1 {
    font-size: 1em;
  }
  main.operator {
    padding: 0.5em;
    gap: 0.5em;
    grid-template-columns: minmax(0, 1fr) auto;
    grid-template-areas:
      'view drive'
      'side side'
      'camera camera'
      'plot plot';
  }
  .operator .view telekit-sim-view,
  .operator .view telekit-camera-viewer {
    max-height: calc(100dvh - 6.5em);
  }
}
`;
