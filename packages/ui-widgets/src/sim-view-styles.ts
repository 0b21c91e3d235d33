/**
 * How `<telekit-sim-view>` looks: the canvas filling the element (4:3 unless sized), the overlay
 * with the bodies and the frame rate, the error line, and the veil with its "Draw anyway" button
 * while drawing is paused (it lets orbit and zoom through to the canvas). The theme's custom
 * properties come from `theme`, which the element adds before these.
 *
 * @module
 */
import { css } from 'lit';

/** The styles of `<telekit-sim-view>`. */
export const simViewStyles = css`
  :host {
    display: block;
    position: relative;
    background: var(--_bg);
    border-radius: var(--_radius);
    overflow: hidden;
    aspect-ratio: 4 / 3;
  }
  canvas {
    width: 100%;
    height: 100%;
    display: block;
  }
  p {
    position: absolute;
    inset: auto 0.5em 0.5em;
    margin: 0;
  }
  .overlay {
    font-variant-numeric: tabular-nums;
  }
  .paused {
    position: absolute;
    inset: 0;
    display: grid;
    place-content: center;
    gap: 0.6em;
    text-align: center;
    padding: 1em;
    background: rgb(0 0 0 / 0.55);
    /* Orbit and zoom still reach the canvas; drawing resumes with the button (or by itself). */
    pointer-events: none;
  }
  .paused button {
    pointer-events: auto;
  }
  `;
