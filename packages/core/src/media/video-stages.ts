/**
 * The stages of a video frame's trip from the renderer to the glass, in order, as the media plugin
 * and a viewer time them (the same names everywhere: the server's health and `/metrics`, a viewer's
 * `videoStats$`, the link-health waterfall):
 *
 * | stage | from → to |
 * |---|---|
 * | `render` | the source starts the frame → hands it to the encoder |
 * | `encode` | into the encoder → its last RTP packet out |
 * | `sfu` | into the SFU → out to this viewer |
 * | `network` | out of the SFU → received by the viewer |
 * | `buffer` | received → out of the jitter buffer |
 * | `decode` | into the decoder → decoded |
 * | `present` | handed to the compositor → expected on the glass |
 *
 * The first three are the server's ({@link SERVER_VIDEO_STAGES}); the viewer adds the rest.
 * Together they add up to glass-to-glass: the stamp in the picture → the glass.
 */
export const VIDEO_STAGES = ['render', 'encode', 'sfu', 'network', 'buffer', 'decode', 'present'] as const;

/** One stage of a frame's trip (see {@link VIDEO_STAGES}). */
export type VideoStage = (typeof VIDEO_STAGES)[number];

/** The stages the server measures itself. */
export const SERVER_VIDEO_STAGES = ['render', 'encode', 'sfu'] as const satisfies readonly VideoStage[];

/** p50, p99 (nearest rank) and how many values they come from, ms. */
export interface StagePercentiles {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

/** One stage's figures over a window, ms. */
export interface VideoStageFigures extends StagePercentiles {
  readonly stage: VideoStage;
}
