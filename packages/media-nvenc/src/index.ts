export { createWorker, loadMediasoup, MEDIASOUP_VERSION, resolveWorkerBin } from './worker.js';
