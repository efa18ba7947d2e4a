/**
 * A real SMTP peer for the tests: `smtp-server` on 127.0.0.1, offering STARTTLS with a test-only
 * certificate signed by `fixtures/ca.pem`, recording every message it accepts.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { SMTPServer } from "smtp-server"
import type { SMTPServerError } from "smtp-server"

const fixture = (name: string) => fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", name), "utf8")

/** The CA that signed the sink's certificate: what a deployment pins with the `ca` option. */
export const caPem = fixture("ca.pem")

export interface Received {
  readonly from: string
  readonly to: ReadonlyArray<string>
  /** Whether the message travelled inside TLS. */
  readonly secure: boolean
  readonly raw: Buffer
}

export interface Sink {
  readonly port: number
  readonly received: ReadonlyArray<Received>
  /** Connections the sink has accepted, whether or not a message followed. */
  readonly connections: () => number
}

export interface Reply {
  readonly code: number
  readonly text: string
}

export interface SinkOptions {
  /** TLS from the first byte (port 465 style) instead of STARTTLS. */
  readonly implicitTls?: boolean
  /** false: the server does not offer or accept STARTTLS. */
  readonly starttls?: boolean
  readonly auth?: { readonly user: string; readonly pass: string }
  readonly rejectRecipient?: (address: string) => Reply | undefined
  readonly rejectData?: Reply
}

const smtpError = (reply: Reply): SMTPServerError => Object.assign(new Error(reply.text), { responseCode: reply.code })

export const start = (options: SinkOptions = {}): Effect.Effect<Sink, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: SMTPServer; sink: Sink }>((resume) => {
      const received: Array<Received> = []
      let connections = 0
      const server = new SMTPServer({
        secure: options.implicitTls === true,
        key: fixture("server-key.pem"),
        cert: fixture("server-cert.pem"),
        disabledCommands: [...(options.starttls === false ? ["STARTTLS"] : []), ...(options.auth === undefined ? ["AUTH"] : [])],
        authOptional: options.auth === undefined,
        disableReverseLookup: true,
        logger: false,
        onConnect: (_session, callback) => {
          connections += 1
          callback()
        },
        onAuth: (auth, _session, callback) =>
          auth.username === options.auth?.user && auth.password === options.auth?.pass
            ? callback(null, { user: auth.username })
            : callback(smtpError({ code: 535, text: "5.7.8 Authentication credentials invalid" })),
        onRcptTo: (address, _session, callback) => {
          const reply = options.rejectRecipient?.(address.address)
          callback(reply === undefined ? null : smtpError(reply))
        },
        onData: (stream, session, callback) => {
          const chunks: Array<Buffer> = []
          stream.on("data", (chunk: Buffer) => chunks.push(chunk))
          stream.on("end", () => {
            if (options.rejectData !== undefined) return callback(smtpError(options.rejectData))
            received.push({
              from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              secure: session.secure,
              raw: Buffer.concat(chunks)
            })
            callback(null, "Message queued as test")
          })
        }
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.server.address() as AddressInfo).port
        resume(Effect.succeed({ server, sink: { port, received, connections: () => connections } }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
  ).pipe(Effect.map(({ sink }) => sink))

const listen = (server: net.Server): Effect.Effect<number> =>
  Effect.async((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
  })

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export const closedPort: Effect.Effect<number> = Effect.gen(function*() {
  const server = net.createServer()
  const port = yield* listen(server)
  yield* Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })
  return port
})

/** A peer that accepts TCP connections and never says a word: no SMTP greeting ever comes. */
export const silent: Effect.Effect<number, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    return { server, sockets }
  }),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      sockets.forEach((socket) => socket.destroy())
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.flatMap(({ server }) => listen(server)))
