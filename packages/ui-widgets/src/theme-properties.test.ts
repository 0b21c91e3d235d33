import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ThemePropertyName,
  themeDeclarations,
  themeProperties,
  themeSizes,
} from './theme-properties.js';

/** WCAG 2's contrast ratio of two `#rrggbb` colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const n = Number.parseInt(hex.slice(1), 16);
    const [r, g, bl] = [n >> 16, (n >> 8) & 255, n & 255].map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const TEXT: ThemePropertyName[] = [
  '--telekit-fg',
  '--telekit-muted',
  '--telekit-danger',
  '--telekit-ok',
  '--telekit-accent',
];
const GROUNDS: ThemePropertyName[] = ['--telekit-bg', '--telekit-page-bg'];

describe('the theme', () => {
  for (const scheme of ['light', 'dark'] as const)
    it(`${scheme}: every text colour meets WCAG AA on the backgrounds, the focus ring 3:1`, () => {
      const v = (name: ThemePropertyName) => themeProperties[name][scheme];
      for (const text of TEXT)
        for (const ground of GROUNDS)
          expect(contrast(v(text), v(ground)), `${text} on ${ground}`).toBeGreaterThanOrEqual(4.5);
      for (const ground of GROUNDS)
        expect(contrast(v('--telekit-focus'), v(ground)), `focus on ${ground}`).toBeGreaterThanOrEqual(3);
      expect(contrast(v('--telekit-estop-fg'), v('--telekit-estop-bg'))).toBeGreaterThanOrEqual(4.5);
      // The page's banner: the background's colour on the danger colour.
      expect(contrast(v('--telekit-bg'), v('--telekit-danger'))).toBeGreaterThanOrEqual(4.5);
    });

  it('declares every property for a stylesheet', () => {
    for (const scheme of ['light', 'dark'] as const) {
      const css = themeDeclarations(scheme);
      for (const [name, p] of Object.entries(themeProperties))
        expect(css).toContain(`${name}: ${p[scheme]};`);
    }
  });

  it("the README's table lists every property with its values", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [name, p] of Object.entries(themeProperties))
      expect(readme).toContain(`| \`${name}\` | \`${p.light}\` | \`${p.dark}\` |`);
    for (const name of Object.keys(themeSizes)) expect(readme).toContain(`| \`${name}\` |`);
  });
});
