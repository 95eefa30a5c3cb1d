/**
 * The monitor's websocket protocol, version 1. docs/monitor-protocol.md is the reference.
 *
 * Every message is one JSON text frame with a `type` field. Server → client messages carry
 * `seq` (the event's index in the run's event log) where they are log events, and `dropped`
 * (how many step events this connection has skipped so far because it read too slowly).
 *
 * This file is imported by the browser page too: it must not import Node modules.
 */
import { z } from "zod";
import type { RunStartInfo, RunSummary } from "../record/hooks.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../record/schema.ts";

export const PROTOCOL_VERSION = 1;

/** How the server obtains events. */
export type MonitorMode = "live" | "replay" | "follow";

/** Replay/playback state of one connection, echoed in heartbeats and after control messages. */
export interface PlaybackState {
  paused: boolean;
  /** Replay speed multiplier of recorded time; `null` = as fast as the connection reads (live). */
  speed: number | null;
  /** Next event index this connection will receive. */
  position: number;
  /** Events in the log so far. */
  total: number;
}

export interface HelloMessage {
  type: "hello";
  protocol: typeof PROTOCOL_VERSION;
  /** Changes whenever the server's event log is a different one (server restart, new run). */
  session: string;
  mode: MonitorMode;
  run_id: string;
  /** Resolved run info: observation dim, op names, run config. Null until the run started. */
  run: RunStartInfo | null;
  playback: PlaybackState;
}
export interface StepMessage {
  type: "step";
  seq: number;
  dropped: number;
  row: StepRow;
}
export interface EpisodeMessage {
  type: "episode";
  seq: number;
  dropped: number;
  row: EpisodeRow;
}
/** The learner statistics of one agent update (one row per statistic, e.g. `losses/approxKl`). */
export interface UpdateMessage {
  type: "update";
  seq: number;
  dropped: number;
  rows: UpdateRow[];
}
export interface EndMessage {
  type: "end";
  seq: number;
  dropped: number;
  summary: RunSummary;
}
export interface HeartbeatMessage {
  type: "heartbeat";
  /** Server time, ms since the epoch. */
  time: number;
  dropped: number;
  playback: PlaybackState;
}
/** The connection's event position jumped (seek): clear what was drawn; events follow from `position`. */
export interface ResetMessage {
  type: "reset";
  playback: PlaybackState;
}
/** Reply to a control message, with the resulting state. */
export interface StateMessage {
  type: "state";
  playback: PlaybackState;
}
/** A request the server could not serve (the connection stays open). */
export interface ErrorMessage {
  type: "error";
  /**
   * `invalid-message`: not JSON, a binary frame, or not a valid client message (the message
   * names the key); `protocol-version`: a `subscribe` without the server's protocol number.
   */
  code: "unknown-run" | "protocol-version" | "not-subscribed" | "invalid-message";
  message: string;
}

export type ServerMessage =
  | HelloMessage
  | StepMessage
  | EpisodeMessage
  | UpdateMessage
  | EndMessage
  | HeartbeatMessage
  | ResetMessage
  | StateMessage
  | ErrorMessage;

/** Client → server: start receiving a run's events. */
export const subscribeSchema = z
  .object({
    type: z.literal("subscribe"),
    protocol: z.number().int(),
    /** Optional: the run the page expects; a mismatch is answered with an `unknown-run` error. */
    run_id: z.string().max(256).optional(),
    /** First event index to receive (a reconnecting page passes its last `seq` + 1). Default 0. */
    from: z.number().int().min(0).optional(),
    /** The `session` that `from` refers to; when it is not the server's, `from` is ignored and events start at 0. */
    session: z.string().max(256).optional(),
  })
  .strict();

/** Client → server: control this connection's playback. */
export const controlSchema = z
  .object({
    type: z.literal("control"),
    action: z.enum(["pause", "resume", "speed", "seek"]),
    /** For `speed`: multiplier > 0, or null for "as fast as possible". */
    speed: z.number().positive().max(1e6).nullable().optional(),
    /** For `seek`: event index to continue from (events before it are re-sent at once). */
    position: z.number().int().min(0).optional(),
  })
  .strict();

export const clientMessageSchema = z.discriminatedUnion("type", [subscribeSchema, controlSchema]);
export type SubscribeMessage = z.infer<typeof subscribeSchema>;
export type ControlMessage = z.infer<typeof controlSchema>;
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Websocket close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  /** A client that keeps sending while never reading the replies (its unsent buffer is full). */
  policyViolation: 1008,
  /** A frame larger than the server's `maxPayload`. */
  messageTooBig: 1009,
} as const;
