/** Public API of the live monitor. */
export { MonitorServer, isLoopback, type MonitorServerOptions, type SessionStats } from "./server.ts";
export { runMonitor, readRunInfo, type RunMonitorOptions, type RunningMonitor } from "./run-monitor.ts";
export * from "./protocol.ts";
export { MonitorThread } from "./thread.ts";
