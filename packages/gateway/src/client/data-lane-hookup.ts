/**
 * Which lane carries the client's streamed commands: the DataChannel lane (data-lane.ts), made when
 * `controlLane` allows it and this runtime has an `RTCPeerConnection`, opened after the handshake,
 * tried again with back-off when it does not open or dies, and stopped with the control connection;
 * and `lane$`, what the client reports about it.
 */
import type { Clock } from '@telekit/core';
import { BehaviorSubject, type Observable } from 'rxjs';
import type { ControlLane } from '../protocol.js';
import type { ControlLaneInfo, GatewayClientOptions } from './client-types.js';
import { ClientDataLane, type DataLaneOptions } from './data-lane.js';

export interface DataLaneHookupOptions {
  options: GatewayClientOptions;
  clock: Clock;
  /** Sends one `rtc` signalling message on the control lane. */
  signal: DataLaneOptions['signal'];
  /** Whether the control connection is up now. */
  connected(): boolean;
}

export class DataLaneHookup {
  readonly lane$: Observable<ControlLaneInfo>;
  /** The DataChannel lane for streamed commands, when this client may use one. */
  readonly dataLane: ClientDataLane | undefined;
  private readonly _info$: BehaviorSubject<ControlLaneInfo>;
  private readonly _mode: ControlLaneInfo['mode'];
  private readonly _connected: () => boolean;
  private _laneRetry: ReturnType<typeof setTimeout> | undefined;
  private _laneBackoffMs = 0;
  private _closed = false;

  constructor(o: DataLaneHookupOptions) {
    const options = o.options;
    const mode = options.controlLane ?? 'auto';
    this._mode = mode;
    this._connected = o.connected;
    const factory =
      options.rtc?.peerConnection ??
      (typeof globalThis.RTCPeerConnection === 'function'
        ? (c: RTCConfiguration) => new globalThis.RTCPeerConnection(c)
        : undefined);
    this.dataLane =
      mode !== 'socket.io' && factory
        ? new ClientDataLane({
            clock: o.clock,
            factory,
            configuration: options.rtc?.configuration ?? {},
            openTimeoutMs: options.rtc?.openTimeoutMs ?? 5_000,
            silenceMs: options.rtc?.silenceMs ?? 1_000,
            repeatMs: options.rtc?.repeatMs ?? 5,
            signal: o.signal,
            changed: () => this._laneChanged(),
          })
        : undefined;
    this._info$ = new BehaviorSubject<ControlLaneInfo>({
      mode,
      lane: 'socket.io',
      dataChannel: {
        state: 'off',
        reason:
          mode === 'socket.io'
            ? "controlLane is 'socket.io'"
            : factory
              ? 'opened after the handshake'
              : 'no RTCPeerConnection here (give one in options.rtc.peerConnection)',
        rtt: null,
      },
    });
    this.lane$ = this._info$.asObservable();
  }

  /** The lane streamed commands leave on now. */
  get controlLane(): ControlLane {
    return this.dataLane?.open ? 'datachannel' : 'socket.io';
  }

  /** True while the DataChannel is open. */
  get open(): boolean {
    return this.dataLane?.open ?? false;
  }

  info(): ControlLaneInfo {
    return {
      mode: this._mode,
      lane: this.controlLane,
      dataChannel: this.dataLane?.info() ?? this._info$.value.dataChannel,
    };
  }

  /** Sends on the DataChannel; false when it is not open (or there is none). */
  send(topic: string, message: unknown): boolean {
    return this.dataLane?.send(topic, message) ?? false;
  }

  /** Opens the DataChannel lane (after the handshake); on failure, tries again later by itself. */
  start(): void {
    const lane = this.dataLane;
    if (!lane || this._closed || lane.state === 'open' || lane.state === 'connecting') return;
    if (this._laneRetry) clearTimeout(this._laneRetry);
    this._laneRetry = undefined;
    lane.start().then(
      () => {
        this._laneBackoffMs = 0;
      },
      () => {
        if (this._closed || lane.state === 'off' || !this._connected()) return;
        // Failed (no UDP, ICE failed, no answer): socket.io carries on; another try later.
        this._laneBackoffMs = Math.min(Math.max(this._laneBackoffMs * 2, 2_000), 30_000);
        this._laneRetry = setTimeout(() => {
          this._laneRetry = undefined;
          if (this._connected()) this.start();
        }, this._laneBackoffMs);
      },
    );
  }

  /** The control connection went down (or the client closed): no retry, the DataChannel closes. */
  stop(reason: string): void {
    if (this._laneRetry) clearTimeout(this._laneRetry);
    this._laneRetry = undefined;
    this.dataLane?.stop(reason);
  }

  /** Stops for good; `lane$` completes with {@link complete}. */
  close(): void {
    this._closed = true;
    if (this._laneRetry) clearTimeout(this._laneRetry);
    this.dataLane?.stop('the client closed');
  }

  complete(): void {
    this._info$.complete();
  }

  private _laneChanged(): void {
    if (this._closed) return;
    const info = this.info();
    const last = this._info$.value;
    if (info.lane === last.lane && info.dataChannel.state === last.dataChannel.state) return;
    this._info$.next(info);
    // Died while it carried the commands: the next one goes over socket.io, and a new try follows.
    if (info.dataChannel.state === 'failed' && last.dataChannel.state === 'open') this._openLater();
  }

  private _openLater(): void {
    if (this._laneRetry || this._closed) return;
    this._laneBackoffMs = Math.min(Math.max(this._laneBackoffMs * 2, 1_000), 30_000);
    this._laneRetry = setTimeout(() => {
      this._laneRetry = undefined;
      if (this._connected()) this.start();
    }, this._laneBackoffMs);
  }
}
