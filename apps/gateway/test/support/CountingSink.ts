/**
 * A schools' mail relay for delivery tests: a real `smtp-server` on loopback offering STARTTLS
 * with the demo certificate, as `MailSink` does, that keeps no files but counts every accepted
 * message by its Message-ID — so a test sees each notification arrive, and any re-send of it.
 * `delayMs` holds each message's answer back, as a slow relay would, so deliveries are in flight
 * long enough for a test to interrupt them. `beforeAnswer` does the same on the test's cue: the
 * message is answered 250 once the promise it returns resolves. With `directory` it also saves
 * each accepted message there as `<n>.eml`, for a test that reads what was sent.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { SMTPServer } from "smtp-server"
import { tls } from "./Gateway.js"

export interface CountingSink {
  readonly host: string
  readonly port: number
  readonly ca: string
  /** Messages accepted so far, re-sends included. */
  readonly received: () => number
  /** Accepted messages by Message-ID. */
  readonly byMessageId: ReadonlyMap<string, number>
  /** Where accepted messages are saved, when asked to. */
  readonly directory: string
  readonly close: () => Promise<void>
}

export const start = (options: {
  readonly delayMs?: number | undefined
  readonly beforeAnswer?: ((messageId: string) => Promise<void>) | undefined
  readonly directory?: string | undefined
} = {}): Promise<CountingSink> => {
  if (options.directory !== undefined) fs.mkdirSync(options.directory, { recursive: true })
  const byMessageId = new Map<string, number>()
  let received = 0
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    logger: false,
    disabledCommands: ["AUTH"],
    onData(stream, _session, callback) {
      const chunks: Array<Buffer> = []
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.on("end", () => {
        const head = Buffer.concat(chunks).toString("latin1")
        const id = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? "no-message-id"
        const accept = () => {
          // Counted as the relay answers 250: from here on the message is the recipient's.
          received += 1
          if (options.directory !== undefined) fs.writeFileSync(path.join(options.directory, `${received}.eml`), Buffer.concat(chunks))
          byMessageId.set(id, (byMessageId.get(id) ?? 0) + 1)
          callback(null, "Saved")
        }
        if (options.beforeAnswer !== undefined) void options.beforeAnswer(id).then(accept, (error: Error) => callback(error))
        else if (options.delayMs === undefined || options.delayMs <= 0) accept()
        else setTimeout(accept, options.delayMs)
      })
    }
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject)
      // A client killed mid-conversation resets its connection; the relay just carries on.
      server.on("error", () => undefined)
      const address = server.server.address()
      resolve({
        host: "127.0.0.1",
        port: typeof address === "object" && address !== null ? address.port : 0,
        ca: tls.cert,
        received: () => received,
        byMessageId,
        directory: options.directory ?? "",
        close: () => new Promise<void>((done) => server.close(() => done()))
      })
    })
  })
}
