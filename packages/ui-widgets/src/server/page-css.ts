/**
 * The layout the example pages share, served by {@link webPage} at `/telekit.css`: the dark theme,
 * a header row (title, then whatever follows), a banner for connection trouble (`#banner`, shown
 * with the `shown` class), and a two-column main grid of `.column`s.
 */
export const PAGE_CSS = `:root {
  color-scheme: dark;
  --telekit-bg: #1b1f26;
}
body {
  margin: 0;
  background: #0f1217;
  color: #e8eaed;
  font: 14px/1.4 system-ui, sans-serif;
}
header {
  display: flex;
  align-items: center;
  gap: 1em;
  padding: 0.6em 1em;
  border-bottom: 1px solid #2a3038;
}
header h1 {
  font-size: 1.1em;
  margin: 0;
}
#banner {
  padding: 0.5em 1em;
  background: #5a1d1f;
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
}
[hidden] {
  display: none;
}
`;
