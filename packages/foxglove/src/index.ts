export { schemaOf } from './channels.js';
export {
  type FoxgloveHealthData,
  type FoxgloveOptions,
  foxglove,
  type VideoAccessUnits,
  VideoAccessUnitsToken,
} from './foxglove-endpoint.js';
export { type FoxgloveUrls, foxgloveUrls } from './foxglove-urls.js';
export { SUBPROTOCOLS } from './wire.js';
