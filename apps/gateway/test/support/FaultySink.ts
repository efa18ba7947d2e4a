/**
 * A schools' mail relay that fails on cue, for the fault test of durable delivery: a real
 * `smtp-server` on loopback offering STARTTLS with the demo certificate, as `CountingSink` does,
 * whose behaviour the test switches by phase.
 *
 * - `refuse`: a relay that is up but cannot take mail for now. Every other new connection is
 *   turned away at the greeting with 421 (closing the channel, as a relay going into maintenance
 *   does); on the others each message is read and then answered 451, as a relay whose queue
 *   cannot be written answers, and the session stays open.
 * - `reset`: a relay host that is down, or a network that flaps: every new connection is cut
 *   as soon as it is made, before the greeting, and a session kept open from before is cut at
 *   its next message.
 * - `drop`: a relay that crashes mid-conversation: the connection is cut in the middle of DATA,
 *   once the message has started to arrive and before any reply, so the sender cannot know
 *   whether it got through.
 * - `accept`: the relay works again and counts every message it accepts by its Message-ID.
 *
 * In every phase that gets as far as RCPT TO, the one `refusedAddress` is refused for good with
 * 550 and `refusedText`, as a relay refuses a mailbox that no longer exists.
 *
 * The messages refused (451) and cut mid-DATA are recorded by Message-ID too, so a test can hold
 * a phase until every notification has met it, rather than hoping a fixed time is long enough.
 */
import type * as net from "node:net"
import { SMTPServer } from "smtp-server"
import type { SMTPServerError } from "smtp-server"
import { tls } from "./Gateway.js"

export type Phase = "refuse" | "reset" | "drop" | "accept"

/** What the relay did so far. */
export interface Counts {
  /** 421 at the greeting and 451 after DATA. */
  readonly refused: number
  /** Connections cut at once (`reset`) or mid-DATA (`drop`). */
  readonly dropped: number
  /** RCPT TO of the refused address answered 550. */
  readonly rejected: number
  /** Messages accepted with 250, re-sends included. */
  readonly accepted: number
}

export interface FaultySink {
  readonly host: string
  readonly port: number
  readonly ca: string
  readonly phase: () => Phase
  readonly setPhase: (phase: Phase) => void
  readonly counts: () => Counts
  /** Distinct Message-IDs answered 451 after DATA. */
  readonly refusedMessages: ReadonlySet<string>
  /** Distinct Message-IDs whose connection was cut mid-DATA. */
  readonly droppedMessages: ReadonlySet<string>
  /** Accepted messages by Message-ID. */
  readonly byMessageId: ReadonlyMap<string, number>
  readonly close: () => Promise<void>
}

const reply = (code: number, text: string): SMTPServerError => Object.assign(new Error(text), { responseCode: code })

/** The Message-ID header of a message's start, once its header line is complete. */
const messageIdOf = (head: string) => /^message-id:\s*(\S+)\r?\n/im.exec(head)?.[1]

export const start = (options: {
  readonly refusedAddress: string
  /** The server's reason, after the code, for refusing `refusedAddress`. */
  readonly refusedText: string
  readonly phase?: Phase | undefined
}): Promise<FaultySink> => {
  let phase: Phase = options.phase ?? "refuse"
  let connections = 0
  const counts = { refused: 0, dropped: 0, rejected: 0, accepted: 0 }
  const refusedMessages = new Set<string>()
  const droppedMessages = new Set<string>()
  const byMessageId = new Map<string, number>()
  // The TCP sockets by client port, so a session is cut at the transport, below its TLS.
  const sockets = new Map<number, net.Socket>()
  const cut = (remotePort: number) => {
    counts.dropped += 1
    sockets.get(remotePort)?.destroy()
  }

  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ["AUTH"],
    onConnect(session, callback) {
      connections += 1
      if (phase === "refuse" && connections % 2 === 1) {
        counts.refused += 1
        return callback(reply(421, "4.3.2 Relay going down for maintenance, try again later"))
      }
      // Never answered: the socket is gone, and the session with it.
      if (phase === "reset") return cut(session.remotePort)
      callback()
    },
    onMailFrom(_address, session, callback) {
      // Never answered, as above.
      if (phase === "reset") return cut(session.remotePort)
      callback()
    },
    onRcptTo(address, _session, callback) {
      if (address.address.toLowerCase() !== options.refusedAddress.toLowerCase()) return callback()
      counts.rejected += 1
      callback(reply(550, options.refusedText))
    },
    onData(stream, session, callback) {
      const chunks: Array<Buffer> = []
      let cutting = false
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk)
        if (phase !== "drop" || cutting) return
        // Cut as soon as the message is known: part of it has arrived, no reply ever will.
        const id = messageIdOf(Buffer.concat(chunks).toString("latin1"))
        if (id === undefined) return
        cutting = true
        droppedMessages.add(id)
        cut(session.remotePort)
      })
      stream.on("end", () => {
        if (cutting) return
        const id = messageIdOf(Buffer.concat(chunks).toString("latin1")) ?? "no-message-id"
        // Answered by the phase the message ends in, so a switch mid-message is still one answer.
        if (phase !== "accept") {
          counts.refused += 1
          refusedMessages.add(id)
          return callback(reply(451, "4.3.0 Relay queue cannot be written, try again later"))
        }
        counts.accepted += 1
        byMessageId.set(id, (byMessageId.get(id) ?? 0) + 1)
        callback(null, "Saved")
      })
    }
  })
  server.server.on("connection", (socket: net.Socket) => {
    const port = socket.remotePort
    if (port === undefined) return
    sockets.set(port, socket)
    socket.once("close", () => sockets.delete(port))
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject)
      // Cut sessions reset their connections; the relay just carries on.
      server.on("error", () => undefined)
      const address = server.server.address()
      resolve({
        host: "127.0.0.1",
        port: typeof address === "object" && address !== null ? address.port : 0,
        ca: tls.cert,
        phase: () => phase,
        setPhase: (next) => (phase = next),
        counts: () => ({ ...counts }),
        refusedMessages,
        droppedMessages,
        byMessageId,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets.values()) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
}
