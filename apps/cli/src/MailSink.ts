/**
 * A local SMTP sink for the demo and tests: a real `smtp-server` on loopback that offers
 * STARTTLS with the demo certificate and saves every accepted message as an `.eml` file. The
 * gateway's secure-email channel talks to it exactly as it would to a council's mail relay.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export interface MailSink {
  readonly host: string
  readonly port: number
  /** The sink's certificate (PEM), for the client to pin. */
  readonly ca: string
  /** How many messages the sink has saved so far. */
  readonly received: () => number
  readonly directory: string
}

export interface MailSinkOptions {
  /** Folder the `.eml` files are written to (created if missing). */
  readonly directory: string
  /** When set, each message's attachments are also saved here under their own names. */
  readonly attachments?: string | undefined
  readonly key: string
  readonly cert: string
  /** The port on 127.0.0.1; any free one when absent. */
  readonly port?: number | undefined
}

const safeName = (messageId: string, n: number): string =>
  `${String(n).padStart(4, "0")}-${messageId.replace(/[<>]/g, "").replace(/[^A-Za-z0-9.@-]/g, "_")}.eml`

/** Starts the sink for the lifetime of the scope. */
export const make = (options: MailSinkOptions): Effect.Effect<MailSink, Error, Scope.Scope> =>
  Effect.gen(function* () {
    fs.mkdirSync(options.directory, { recursive: true })
    if (options.attachments !== undefined) fs.mkdirSync(options.attachments, { recursive: true })
    let saved = 0
    // Loaded by the sink alone, not at every command's start.
    const [{ simpleParser }, { SMTPServer }] = yield* Effect.promise(() => Promise.all([import("mailparser"), import("smtp-server")]))
    const server = new SMTPServer({
      key: options.key,
      cert: options.cert,
      authOptional: true,
      logger: false,
      disabledCommands: ["AUTH"],
      onData(stream, _session, callback) {
        const chunks: Array<Buffer> = []
        stream.on("data", (chunk: Buffer) => chunks.push(chunk))
        stream.on("end", () => {
          const raw = Buffer.concat(chunks)
          const id = /^message-id:\s*(\S+)/im.exec(raw.toString("latin1"))?.[1] ?? "no-message-id"
          saved += 1
          fs.writeFileSync(path.join(options.directory, safeName(id, saved)), raw)
          if (options.attachments === undefined) return callback(null, "Saved")
          const folder = options.attachments
          simpleParser(raw).then(
            (mail) => {
              for (const a of mail.attachments) {
                fs.writeFileSync(path.join(folder, path.basename(a.filename ?? `attachment-${saved}`)), a.content)
              }
              callback(null, "Saved")
            },
            (error: Error) => callback(error)
          )
        })
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) => {
        server.once("error", (e: Error) => resume(Effect.fail(e)))
        server.listen(options.port ?? 0, "127.0.0.1", () => {
          // A client that drops mid-session (a gateway killed by a test) must not crash the host.
          server.on("error", () => undefined)
          const address = server.server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
    )
    return { host: "127.0.0.1", port, ca: options.cert, received: () => saved, directory: options.directory }
  })
