import { type MediaSignalling, MediaSignallingToken, type Plugin, TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';
import * as z from 'zod';
import {
  chooseEncoder,
  type EncoderName,
  type EncoderProfile,
  profiles,
  SupervisedEncoder,
} from './encoder.js';
import { createSfu, type Sfu } from './sfu.js';
import { createWorker } from './worker.js';

/** A stream the media plugin serves. */
export interface StreamOptions {
  id: string;
  label?: string;
  /** A profile name (`720p30`, `1080p60`, …) or your own. Default `720p30`. */
  profile?: keyof typeof profiles | EncoderProfile;
  encoder?: EncoderName;
  /** Where pictures come from. Today: ffmpeg's test pattern. */
  source?: 'test-pattern';
}

/** Options of {@link nvencMedia}. */
export interface MediaPluginOptions {
  streams: readonly StreamOptions[];
  /** The address browsers reach for WebRTC; `announcedIp` behind NAT. Default 127.0.0.1. */
  listenIp?: string;
  announcedIp?: string;
}

const Obj = z.record(z.string(), z.unknown());
const bodies = {
  '/media/streams': z.object({}).passthrough(),
  '/media/join': z.object({ stream: z.string().min(1).max(128) }),
  '/media/transport': z.object({}).passthrough(),
  '/media/connect': z.object({ transport: z.string().min(1).max(128), dtlsParameters: Obj }),
  '/media/consume': z.object({
    transport: z.string().min(1).max(128),
    stream: z.string().min(1).max(128),
    rtpCapabilities: Obj,
  }),
  '/media/resume': z.object({ consumer: z.string().min(1).max(128) }),
} as const;
type Op = keyof typeof bodies;

function parse<T>(schema: z.ZodType<T>, topic: string, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || '(root)';
  throw new TelekitError(
    'E_VALIDATION',
    `invalid ${topic} request: ${field}: ${issue?.message.replace(/^Invalid input: /, '') ?? 'malformed'}`,
    { context: { field } },
  );
}

/**
 * The media plugin: one encode per stream into a mediasoup SFU, any number of WebRTC viewers,
 * signalling answered through the gateway (it provides `MediaSignallingToken`).
 */
export function nvencMedia(options: MediaPluginOptions): Plugin {
  let sfu: Sfu | undefined;
  const encoders = new Map<string, SupervisedEncoder>();
  return {
    name: '@telekit/media-nvenc',
    kind: 'media',
    provides: [MediaSignallingToken],
    async setup(ctx) {
      const worker: types.Worker = await createWorker();
      ctx.onTeardown(() => worker.close());
      const s = await createSfu({
        worker,
        ...(options.listenIp ? { listenIp: options.listenIp } : {}),
        ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}),
      });
      sfu = s;
      ctx.onTeardown(() => s.close());
      const streamInfo: {
        id: string;
        label: string;
        codec: 'h264';
        width: number;
        height: number;
        fps: number;
      }[] = [];
      for (const spec of options.streams) {
        const stream = await s.addStream(spec.id);
        const profile = typeof spec.profile === 'object' ? spec.profile : profiles[spec.profile ?? '720p30'];
        const chosen = await chooseEncoder(spec.encoder ?? 'auto');
        ctx.logger.info('stream encoder chosen', {
          stream: spec.id,
          encoder: chosen.encoder,
          why: chosen.why,
        });
        const enc = new SupervisedEncoder({
          encoder: chosen.encoder,
          profile,
          input: { kind: 'test-pattern' },
          rtp: stream.ingest,
          logger: ctx.logger,
        });
        encoders.set(spec.id, enc);
        ctx.onTeardown(() => enc.close());
        streamInfo.push({
          id: spec.id,
          label: spec.label ?? spec.id,
          codec: 'h264',
          width: profile.width,
          height: profile.height,
          fps: profile.fps,
        });
      }

      // Which client owns which transport, so nobody uses another's.
      const owners = new Map<string, string>();
      const own = (clientId: string, transport: string) => {
        const owner = owners.get(transport);
        if (owner === undefined)
          throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown transport', {
            context: { transport: transport.slice(0, 64) },
          });
        if (owner !== clientId)
          throw new TelekitError('E_FORBIDDEN', 'that transport belongs to another viewer', {
            context: { transport },
          });
      };
      const signalling: MediaSignalling = {
        async request(clientId, topic, body) {
          if (!(topic in bodies)) {
            throw new TelekitError(
              'E_MEDIA_SIGNALLING',
              `unknown media request ${topic.slice(0, 64)}; known: ${Object.keys(bodies).join(', ')}`,
            );
          }
          const op = topic as Op;
          switch (op) {
            case '/media/streams':
              return { streams: streamInfo };
            case '/media/join': {
              const b = parse(bodies[op], topic, body);
              if (!s.stream(b.stream))
                throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', {
                  context: { stream: b.stream },
                });
              return { rtpCapabilities: s.rtpCapabilities };
            }
            case '/media/transport': {
              const t = await s.createViewerTransport();
              owners.set(t.id, clientId);
              return t;
            }
            case '/media/connect': {
              const b = parse(bodies[op], topic, body);
              own(clientId, b.transport);
              await s.connect(b.transport, b.dtlsParameters as unknown as types.DtlsParameters);
              return {};
            }
            case '/media/consume': {
              const b = parse(bodies[op], topic, body);
              own(clientId, b.transport);
              return s.consume(b.transport, b.stream, b.rtpCapabilities as unknown as types.RtpCapabilities);
            }
            case '/media/resume': {
              const b = parse(bodies[op], topic, body);
              const transport = s.transportOfConsumer(b.consumer);
              if (transport) own(clientId, transport);
              await s.resume(b.consumer);
              return {};
            }
          }
        },
        release(clientId) {
          for (const [transport, owner] of owners) {
            if (owner !== clientId) continue;
            owners.delete(transport);
            s.closeTransport(transport);
          }
        },
      };
      ctx.provide(MediaSignallingToken, signalling);
    },
    health() {
      if (!sfu) return { status: 'down', detail: 'not started' };
      const down = [...encoders.entries()].filter(([, e]) => !e.status.running).map(([id]) => id);
      const data = Object.fromEntries(
        [...encoders.entries()].map(([id, e]) => [
          id,
          { viewers: sfu!.viewers(id), restarts: e.status.restarts, encoder: e.status.encoder },
        ]),
      );
      return down.length
        ? { status: 'degraded', detail: `encoder down: ${down.join(', ')}`, data }
        : { status: 'ok', data };
    },
  };
}
