/**
 * One SFTP connection: host key pinned, key authentication, every request time-boxed, and closed —
 * socket destroyed — when its scope closes, also on interruption, so the next attempt or poll
 * starts on a fresh connection (CONVENTIONS: SFTP pitfalls). Shared by this channel's uploads and
 * the gateway's SFTP drop intake; each maps `SftpConnectionError` into its own error and keeps its
 * own operations.
 */
import { SshHostKey } from "@encompass/plugin-sdk"
import { Duration, Effect, Schema } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import SftpClient from "ssh2-sftp-client"

/** Where to connect, as both the channel's and the drop's settings name it. */
export interface Endpoint {
  readonly host: string
  readonly port: number
  readonly username: string
  /** The pinned fingerprint, as `ssh-keygen -lf` prints it. */
  readonly hostKey: string
  /** The private key's file, named when the key cannot be used. */
  readonly privateKey: string
}

export interface Options {
  readonly endpoint: Endpoint
  /** The private key's contents. */
  readonly key: Buffer
  readonly connectTimeout: Duration.Duration
  readonly operationTimeout: Duration.Duration
  /** ssh2-sftp-client's name for the client, in its debug output. */
  readonly clientName: string
  /** What a refused host key spared, for the operator: "nothing uploaded". */
  readonly spared: string
}

export class SftpConnectionError extends Schema.TaggedError<SftpConnectionError>("@encompass/channel-sftp/SftpConnectionError")(
  "SftpConnectionError",
  {
    module: Schema.Literal("SftpConnection"),
    method: Schema.Literal("connect", "call"),
    /** `Refused`: the server answered a request with a refusal (a missing file, no permission); the connection is fine. */
    reason: Schema.Literal("Transport", "Timeout", "Auth", "HostKey", "InvalidConfig", "Refused"),
    detail: Schema.String
  }
) {}

export interface Connection {
  readonly client: SftpClient
  /** The extensions the server announced in its SFTP version packet. */
  readonly extensions: Readonly<Record<string, string>>
  /** One request, time-boxed; a refusal by the server is `Refused`, anything else the connection failing. */
  readonly call: <A>(what: string, f: () => Promise<A>) => Effect.Effect<A, SftpConnectionError>
}

export const server = (endpoint: Pick<Endpoint, "username" | "host" | "port">): string => `${endpoint.username}@${endpoint.host}:${endpoint.port}`

/** ssh2's own errors carry a `level` (`client-authentication`, `client-timeout`, …). */
interface SshError extends Error {
  readonly level?: string
  readonly code?: unknown
}

const ignore = () => undefined

/** Library text, kept short and single-line; it names paths, never key material (which we never pass it as text). */
export const said = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  return /PRIVATE KEY/.test(text) ? "[redacted]" : text.replace(/\s+/g, " ").trim().slice(0, 300)
}

/** SFTP status codes are numbers; ssh2-sftp-client names a few refusals itself. The rest is the connection failing. */
const refusedByServer = (cause: unknown): boolean => {
  const code = (cause as SshError | undefined)?.code
  return typeof code === "number" || code === "ERR_BAD_PATH" || code === "ENOENT" || code === "EACCES" || code === "ENOTDIR"
}

export const open = (options: Options): Effect.Effect<Connection, SftpConnectionError, Scope.Scope> =>
  Effect.gen(function*() {
    const fail = (method: SftpConnectionError["method"], reason: SftpConnectionError["reason"], detail: string) =>
      new SftpConnectionError({ module: "SftpConnection", method, reason, detail })
    const { connectTimeout, endpoint, operationTimeout } = options

    // The socket is ours, so closing the scope can always destroy it, even mid-handshake.
    const { client, socket } = yield* Effect.acquireRelease(
      Effect.sync(() => ({ client: new SftpClient(options.clientName, { error: ignore, end: ignore, close: ignore }), socket: new net.Socket() })),
      ({ client, socket }) =>
        // A polite goodbye if the server is still there; the socket goes regardless.
        Effect.tryPromise(() => client.end()).pipe(
          Effect.timeout(Duration.seconds(2)),
          Effect.ignore,
          Effect.ensuring(Effect.sync(() => socket.destroy()))
        )
    )

    let presented: { readonly fingerprint: string; readonly type: string } | undefined
    let sshError: SshError | undefined
    // A late error (a handle's close cut short when the socket goes) must not become an uncaught exception.
    client.on("error", (error: SshError) => {
      sshError ??= error
    })
    socket.on("error", ignore)

    const connectError = (cause: unknown): SftpConnectionError => {
      if (presented !== undefined && !SshHostKey.sameKey(presented.fingerprint, endpoint.hostKey)) {
        return fail(
          "connect",
          "HostKey",
          `the server presented the ${presented.type} host key ${presented.fingerprint}, not the pinned ${endpoint.hostKey}; refused before logging in, ${options.spared}`
        )
      }
      switch (sshError?.level) {
        case "client-authentication":
          return fail("connect", "Auth", `the server refused key authentication as ${endpoint.username}`)
        case "client-timeout":
          return fail("connect", "Timeout", `no SSH handshake within ${Duration.format(connectTimeout)}`)
      }
      if (/private ?key/i.test(said(cause))) {
        return fail("connect", "InvalidConfig", `the private key ${endpoint.privateKey} cannot be used (not an unencrypted OpenSSH or PEM key)`)
      }
      return fail("connect", "Transport", said(sshError ?? cause))
    }

    const sftp = yield* Effect.tryPromise({
      try: () => {
        socket.connect({ host: endpoint.host, port: endpoint.port })
        return client.connect({
          sock: socket,
          host: endpoint.host,
          port: endpoint.port,
          username: endpoint.username,
          privateKey: options.key,
          // Called with the raw key blob (no `hostHash`): compared as OpenSSH's SHA256 fingerprint.
          hostVerifier: (key: Buffer) => {
            presented = { fingerprint: SshHostKey.fingerprint(key), type: SshHostKey.keyType(key) }
            return SshHostKey.sameKey(presented.fingerprint, endpoint.hostKey)
          },
          readyTimeout: Duration.toMillis(connectTimeout),
          tryKeyboard: false
        })
      },
      catch: connectError
    }).pipe(
      Effect.timeoutFail({
        duration: connectTimeout,
        onTimeout: () => fail("connect", "Timeout", `not connected within ${Duration.format(connectTimeout)}`)
      })
    )

    return {
      client,
      // ssh2 keeps them on the wrapper it resolves with.
      extensions: (sftp as unknown as { readonly _extensions?: Readonly<Record<string, string>> })._extensions ?? {},
      call: (what, f) =>
        Effect.tryPromise({
          try: f,
          catch: (cause) => fail("call", refusedByServer(cause) ? "Refused" : "Transport", `${what}: ${said(cause)}`)
        }).pipe(
          Effect.timeoutFail({
            duration: operationTimeout,
            onTimeout: () => fail("call", "Timeout", `${what}: no answer within ${Duration.format(operationTimeout)}`)
          })
        )
    } satisfies Connection
  })
