/**
 * Every error code Telekit puts on the wire or in a `TelekitError`, in one list, with what it means.
 * A test scans every package (TypeScript and the Python sidecar) and fails on a code that is not
 * here: a client can switch on any code it receives. Plugins of your own may add codes; prefix them
 * with the plugin's short name (`E_MYROBOT_…`).
 *
 * @module
 */
export const errorCodes = {
  // Anywhere
  E_VALIDATION: 'a message or an argument does not fit its schema; the error names the field',
  E_BAD_REQUEST: 'a request to the gateway is malformed; the error names the field',
  E_CONFIG: 'an option is wrong; the error names it',
  E_TIMEOUT: 'no answer in time',
  E_INTERNAL: 'a fault inside Telekit, not in what was sent; logged where it happened',
  E_PROTOCOL: 'the other end speaks another protocol version, or sent something undecodable',
  // The plugin host
  E_PLUGIN_INVALID: 'a plugin object is not a plugin (no name, no setup)',
  E_PLUGIN_DUPLICATE: 'two plugins with one name, or a token provided twice',
  E_PLUGIN_MISSING_DEPENDENCY: 'nothing provides a token a plugin requires',
  E_PLUGIN_CYCLE: 'plugins require each other in a cycle (the path is named)',
  E_PLUGIN_SETUP: 'a plugin failed to set up',
  E_PLUGIN_TEARDOWN: 'a plugin failed to tear down',
  E_PLUGIN_HEALTH: 'a plugin failed to report its health',
  E_PLUGIN_UNDECLARED: 'a plugin resolved or provided a token it did not declare',
  E_APP_STATE: 'an app was started twice, or used after it stopped',
  // Transports
  E_TRANSPORT_CLOSED: 'the transport is closed',
  E_NOT_CONNECTED: 'the link is down: the message was dropped, never queued',
  // The gateway: who may connect
  E_AUTH: 'the handshake was refused (`reason`: missing, invalid, expired, forbidden)',
  E_SESSION_IN_USE: "the session's lane is connected already; try again",
  E_ABUSE: 'kept out for a while after too many refusals',
  E_NAMESPACE: 'no such namespace: connect to /control or /telemetry',
  E_TOO_MANY_CONNECTIONS: 'the address holds too many connections (or too many unauthenticated ones)',
  E_SESSION_CLOSED: 'the session ended; connect again',
  // The gateway: what may be sent
  E_FORBIDDEN: "the principal's role may not do this (the access list, the e-stop's rules)",
  E_UNKNOWN_TOPIC: 'the gateway knows no such topic',
  E_WRONG_LANE: "the topic travels on the other lane's connection",
  E_PAYLOAD_TOO_LARGE: 'the message is larger than the gateway accepts',
  E_RATE_LIMITED: 'too many messages; the limit is in the message',
  // The safety chain
  E_NOT_HOLDER: 'a command from a client that does not hold the control lease',
  E_STALE: 'a command past its deadline, or stamped ahead of the clock: dropped, never actuated late',
  E_OUT_OF_ORDER: 'a command not after the last one from its sender: dropped',
  E_ESTOP: 'a command while the e-stop is engaged',
  // The DataChannel control lane
  E_NO_DATACHANNEL:
    'this gateway has no DataChannel lane (turned off, or node-datachannel absent): use socket.io',
  E_DATACHANNEL: 'the gateway could not open a DataChannel now (too many peers, a peer connection failed)',
  // Media
  E_NO_MEDIA: 'this gateway serves no media',
  E_MEDIA: 'the media plugin could not answer a request',
  E_MEDIA_SIGNALLING: 'a media request names an unknown stream, transport or consumer, or comes out of order',
  E_MEDIA_LIMIT: 'a media limit was reached (transports per client, consumers per transport, in all)',
  E_MEDIA_ENCODER: 'the encoder failed to start or died',
  E_MEDIA_WORKER: "mediasoup's worker is missing or died",
  // Simulators
  E_SIM_CLOSED: 'the simulator is closed',
  E_SIM_CONFIG: 'the simulator plugin is misconfigured',
  E_SIM_SCENE: 'a scene failed to load; the error names the file and line where known',
  E_SIM_NO_SCENE: 'no scene is loaded',
  E_SIM_NO_BASE: 'the scene has no mobile base to drive',
  E_SIM_SNAPSHOT: 'a snapshot is from another scene or engine, or malformed',
  E_SIM_ENGINE: 'the physics engine failed',
  E_SIM_BACKEND: 'the chosen simulator backend is not installed or cannot run here',
  E_SIM_CAMERA: 'the camera cannot render (no such camera, no renderer)',
  E_SIM_STOPPING: 'the simulator is shutting down',
  E_SIM_NO_WASM: "MuJoCo's WebAssembly build could not be loaded",
  E_UNKNOWN_JOINT: 'a command names a joint the scene does not have',
  E_UNKNOWN_OP: 'the sidecar knows no such operation',
  E_UNAUTHORIZED: 'a sidecar connection did not present the run token',
  E_SIDECAR: 'the simulator sidecar failed',
  E_SIDECAR_START: 'the simulator sidecar could not start (the Python or the package is missing)',
  E_SIDECAR_GONE: 'the simulator sidecar went away under a request',
  E_SIDECAR_PROTOCOL: 'the sidecar speaks another protocol version',
  E_POLICY: 'a learned policy could not be loaded or run',
  // ROS 2
  E_ROS_UNAVAILABLE: 'ROS 2 is not sourced or rclnodejs is not installed',
  E_ROS_NODE: 'the ROS node failed',
  E_ROS_UNKNOWN_TYPE: 'no such ROS message type',
  E_ROS_SERVICE: 'a ROS service call failed',
  E_ROS_SERVICE_UNAVAILABLE: 'no server for the ROS service',
  E_ROS_IMAGE: 'a ROS image cannot be read',
  // rosbridge
  E_ROSBRIDGE_OP: 'a rosbridge op the endpoint does not know or support (the error names the op)',
  E_ROSBRIDGE_SERVICE: 'a rosbridge service call failed, or no service of that name',
  E_ROSBRIDGE_UNMAPPED: 'a ROS topic with no Telekit topic in the mapping, and not relayed by the allow-list',
} as const;

/** A code from {@link errorCodes}. */
export type KnownErrorCode = keyof typeof errorCodes;
