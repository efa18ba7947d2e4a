/**
 * One SFTP connection for one attempt: host key pinned, key authentication, every request
 * time-boxed, and closed — socket destroyed — when the attempt's scope closes, also on
 * interruption. The next attempt therefore starts on a fresh connection (CONVENTIONS: SFTP
 * pitfalls).
 */
import { SshHostKey } from "@encompass/plugin-sdk"
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import SftpClient from "ssh2-sftp-client"
import type { SftpChannelConfig } from "../SftpChannelConfig.js"
import { SftpChannelError } from "../SftpChannelError.js"

export interface Session {
  /** Whether the path exists and is a folder. */
  readonly isDirectory: (path: string) => Effect.Effect<boolean, SftpChannelError>
  readonly put: (content: Uint8Array, path: string) => Effect.Effect<void, SftpChannelError>
  /**
   * Replaces `to` with `from`: one atomic `posix-rename@openssh.com` where the server offers it;
   * otherwise `to` is removed first (SFTP v3's rename never overwrites), so for a moment a re-sent
   * file is absent — never partial. Says which it did.
   */
  readonly replace: (from: string, to: string) => Effect.Effect<"posix-rename" | "remove-then-rename", SftpChannelError>
  /** Best effort: a temporary file left by a failed attempt. */
  readonly remove: (path: string) => Effect.Effect<void>
  /** Names in `directory` that start with `prefix`. */
  readonly namesStartingWith: (directory: string, prefix: string) => Effect.Effect<ReadonlyArray<string>, SftpChannelError>
}

export const server = (config: SftpChannelConfig): string => `${config.username}@${config.host}:${config.port}`

/** ssh2's own errors carry a `level` (`client-authentication`, `client-timeout`, …). */
interface SshError extends Error {
  readonly level?: string
  readonly code?: unknown
}

const ignore = () => undefined

/** Library text, kept short and single-line; it names paths, never key material (which we never pass it as text). */
const said = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  return /PRIVATE KEY/.test(text) ? "[redacted]" : text.replace(/\s+/g, " ").trim().slice(0, 300)
}

/** SFTP status codes are numbers; ssh2-sftp-client names a few refusals itself. The rest is the connection failing. */
const refusedByServer = (cause: unknown): boolean => {
  const code = (cause as SshError | undefined)?.code
  return typeof code === "number" || code === "ERR_BAD_PATH" || code === "ENOENT" || code === "EACCES" || code === "ENOTDIR"
}

export const open = (
  config: SftpChannelConfig,
  method: SftpChannelError["method"],
  privateKey: Buffer
): Effect.Effect<Session, SftpChannelError, Scope.Scope> =>
  Effect.gen(function*() {
    const at = server(config)
    const fail = (reason: SftpChannelError["reason"], detail: string) =>
      new SftpChannelError({ module: "SftpChannel", method, reason, server: at, detail })
    const connectTimeout = Duration.millis(config.connectTimeoutMs)
    const operationTimeout = Duration.millis(config.operationTimeoutMs)

    // The socket is ours, so closing the scope can always destroy it, even mid-handshake.
    const { client, socket } = yield* Effect.acquireRelease(
      Effect.sync(() => ({ client: new SftpClient("encompass-channel-sftp", { error: ignore, end: ignore, close: ignore }), socket: new net.Socket() })),
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

    const connectError = (cause: unknown): SftpChannelError => {
      if (presented !== undefined && !SshHostKey.sameKey(presented.fingerprint, config.hostKey)) {
        return fail(
          "HostKey",
          `the server presented the ${presented.type} host key ${presented.fingerprint}, not the pinned ${config.hostKey}; refused before logging in, nothing uploaded`
        )
      }
      switch (sshError?.level) {
        case "client-authentication":
          return fail("Auth", `the server refused key authentication as ${config.username}`)
        case "client-timeout":
          return fail("Timeout", `no SSH handshake within ${Duration.format(connectTimeout)}`)
      }
      if (/private ?key/i.test(said(cause))) {
        return fail("InvalidConfig", `the private key ${config.privateKey} cannot be used (not an unencrypted OpenSSH or PEM key)`)
      }
      return fail("Transport", said(sshError ?? cause))
    }

    const sftp = yield* Effect.tryPromise({
      try: () => {
        socket.connect({ host: config.host, port: config.port })
        return client.connect({
          sock: socket,
          host: config.host,
          port: config.port,
          username: config.username,
          privateKey,
          // Called with the raw key blob (no `hostHash`): compared as OpenSSH's SHA256 fingerprint.
          hostVerifier: (key: Buffer) => {
            presented = { fingerprint: SshHostKey.fingerprint(key), type: SshHostKey.keyType(key) }
            return SshHostKey.sameKey(presented.fingerprint, config.hostKey)
          },
          readyTimeout: config.connectTimeoutMs,
          tryKeyboard: false
        })
      },
      catch: connectError
    }).pipe(
      Effect.timeoutFail({
        duration: connectTimeout,
        onTimeout: () => fail("Timeout", `not connected within ${Duration.format(connectTimeout)}`)
      })
    )
    // The extensions the server announced in its SFTP version packet; ssh2 keeps them on the wrapper.
    const extensions = (sftp as unknown as { readonly _extensions?: Readonly<Record<string, string>> })._extensions ?? {}
    const posixRename = extensions["posix-rename@openssh.com"] !== undefined

    const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, SftpChannelError> =>
      Effect.tryPromise({
        try: f,
        catch: (cause) => fail(refusedByServer(cause) ? "Rejected" : "Transport", `${what}: ${said(cause)}`)
      }).pipe(
        Effect.timeoutFail({
          duration: operationTimeout,
          onTimeout: () => fail("Timeout", `${what}: no answer within ${Duration.format(operationTimeout)}`)
        })
      )

    return {
      isDirectory: (path) => Effect.map(call(`stat ${path}`, () => client.exists(path)), (type) => type === "d"),
      put: (content, path) => Effect.asVoid(call(`upload ${path}`, () => client.put(Buffer.from(content), path))),
      replace: (from, to) =>
        posixRename
          ? Effect.as(call(`rename ${from} to ${to}`, () => client.posixRename(from, to)), "posix-rename" as const)
          : Effect.gen(function*() {
            if ((yield* call(`stat ${to}`, () => client.exists(to))) !== false) yield* call(`remove ${to}`, () => client.delete(to))
            yield* call(`rename ${from} to ${to}`, () => client.rename(from, to))
            return "remove-then-rename" as const
          }),
      remove: (path) => Effect.ignore(call(`remove ${path}`, () => client.delete(path, true))),
      namesStartingWith: (directory, prefix) =>
        Effect.map(call(`list ${directory}`, () => client.list(directory, (entry) => entry.name.startsWith(prefix))), (entries) => entries.map((e) => e.name))
    } satisfies Session
  })
