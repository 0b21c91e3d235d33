/**
 * Reading a 1080p `sensor_msgs/msg/Image` that arrived serialized (CDR), the two ways a Node app can:
 * deserializing it into a JS object whose `data` is an array of numbers (what costs rclnodejs most
 * of a camera's frame rate, its issues #916 and #960) against reading the fields in place with the
 * pixels left as a view into the received bytes (`readImage`, what `rosImageSource` does). The
 * live suite measures the same on a real ROS 2 graph.
 */
import { CdrReader, CdrWriter } from '@foxglove/cdr';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { imageToFrame, readImage } from '../src/index.js';

const WIDTH = 1920;
const HEIGHT = 1080;

function serialized(): Uint8Array {
  const w = new CdrWriter({ size: WIDTH * HEIGHT * 3 + 256 });
  w.int32(1_700_000_000).uint32(0).string('camera').uint32(HEIGHT).uint32(WIDTH).string('rgb8').uint8(0);
  w.uint32(WIDTH * 3).uint8Array(new Uint8Array(WIDTH * HEIGHT * 3).fill(7), true);
  return w.data;
}

/** Deserializes every field into JS values, the pixels into a plain array. */
function toObject(bytes: Uint8Array) {
  const r = new CdrReader(bytes);
  const header = { stamp: { sec: r.int32(), nanosec: r.uint32() }, frame_id: r.string() };
  const height = r.uint32();
  const width = r.uint32();
  const encoding = r.string();
  const is_bigendian = r.uint8();
  const step = r.uint32();
  const length = r.sequenceLength();
  const data: number[] = new Array(length);
  for (let i = 0; i < length; i++) data[i] = r.uint8();
  return { header, height, width, encoding, is_bigendian, step, data };
}

const bytes = serialized();
let sink = 0;
const run = async (read: () => number): Promise<BenchMeasurement> => {
  const samples = await measureLatency(
    async () => {
      sink += read();
    },
    { iterations: 20, warmup: 3 },
  );
  return { samples, extra: { 'frames/s possible': Math.round(1000 / samples.sort((a, b) => a - b)[10]!) } };
};

export const benchmarks: Benchmark[] = [
  {
    id: 'transport-ros.image',
    title: 'Reading one 1080p rgb8 sensor_msgs/Image from its serialized bytes',
    kind: 'latency',
    baseline: {
      name: 'deserialized into a JS object (data as number[])',
      run: () => run(() => toObject(bytes).data.length),
    },
    candidates: [
      {
        name: 'read in place (readImage + imageToFrame, pixels as a view)',
        run: () => run(() => imageToFrame(readImage(bytes), 0).data.byteLength),
      },
    ],
  },
];

void sink;
