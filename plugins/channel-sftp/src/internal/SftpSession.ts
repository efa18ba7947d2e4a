/**
 * The channel's requests over one SFTP connection for one attempt (SftpConnection: pinned host
 * key, key authentication, time-boxed, closed with the attempt's scope).
 */
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import type { SftpChannelConfig } from "../SftpChannelConfig.js"
import { SftpChannelError } from "../SftpChannelError.js"
import * as SftpConnection from "../SftpConnection.js"

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

export const server = (config: SftpChannelConfig): string => SftpConnection.server(config)

export const open = (
  config: SftpChannelConfig,
  method: SftpChannelError["method"],
  privateKey: Buffer
): Effect.Effect<Session, SftpChannelError, Scope.Scope> =>
  Effect.gen(function*() {
    const at = server(config)
    const ours = (error: SftpConnection.SftpConnectionError) =>
      new SftpChannelError({ module: "SftpChannel", method, reason: error.reason === "Refused" ? "Rejected" : error.reason, server: at, detail: error.detail })
    const { call: request, client, extensions } = yield* SftpConnection.open({
      endpoint: config,
      key: privateKey,
      connectTimeout: Duration.millis(config.connectTimeoutMs),
      operationTimeout: Duration.millis(config.operationTimeoutMs),
      clientName: "encompass-channel-sftp",
      spared: "nothing uploaded"
    }).pipe(Effect.mapError(ours))
    const posixRename = extensions["posix-rename@openssh.com"] !== undefined
    const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, SftpChannelError> => Effect.mapError(request(what, f), ours)

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
