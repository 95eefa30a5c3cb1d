/**
 * `--queue redis://[[USER]:PASSWORD@]HOST:PORT[/DB]` (or `rediss://` for TLS): where the BullMQ
 * queue lives. Parsed here rather than handed to ioredis as a string, so that a typo fails at
 * once with a message naming the option, instead of a client retrying a wrong host forever.
 */

/** What BullMQ passes to ioredis, plus the URL with its password hidden (for logs and errors). */
export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** Set for `rediss://`: TLS with the system's CA store; the host name is checked against the certificate. */
  tls?: { servername: string };
  /** The URL as given, password replaced by `***`. */
  display: string;
}

const FORM = "redis://HOST:PORT[/DB] (or rediss:// for TLS; a password as redis://:PASSWORD@HOST:PORT, an ACL user as redis://USER:PASSWORD@HOST:PORT)";

/**
 * Parse a queue URL; `flag` names the option in errors. A URL without a password takes the one
 * in `$AUGRL_REDIS_PASSWORD` (`env`), which keeps it out of the process list and shell history.
 */
export function parseQueueUrl(flag: string, text: unknown, env: NodeJS.ProcessEnv = process.env): QueueConnection {
  if (typeof text !== "string" || text === "") throw new Error(`\`${flag}\` must be ${FORM}; got ${show(text)}`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`\`${flag}\` is not a URL: ${show(text)}; pass ${FORM}`);
  }
  const hidden = u.password ? text.replace(`:${u.password}@`, ":***@") : text;
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(`\`${flag}\` must start with redis:// or rediss://; got ${show(hidden)}`);
  }
  if (u.hostname === "") throw new Error(`\`${flag}\` names no host: ${show(hidden)}; pass ${FORM}`);
  if (u.port === "") throw new Error(`\`${flag}\` names no port: ${show(hidden)}; pass the port explicitly, e.g. redis://${u.hostname}:6379`);
  const port = Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db)) {
    throw new Error(`\`${flag}\`: the database after the port must be a number (0 by default); got ${show(dbText)} in ${show(hidden)}`);
  }
  if (u.search || u.hash) throw new Error(`\`${flag}\` takes no query or fragment; got ${show(hidden)}; pass ${FORM}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    host, port, db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : env.AUGRL_REDIS_PASSWORD ? { password: env.AUGRL_REDIS_PASSWORD } : {}),
    ...(u.protocol === "rediss:" ? { tls: { servername: host } } : {}),
    display: hidden,
  };
}

/** Connection options for BullMQ's Queue, Worker and QueueEvents (ioredis underneath). */
export function bullConnection(c: QueueConnection): Record<string, unknown> {
  const { display: _display, ...options } = c;
  // null: a worker's blocking commands wait through a Redis restart instead of failing (BullMQ requires it for workers).
  return { ...options, maxRetriesPerRequest: null };
}

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
