/**
 * Reads one message's DATA through mailparser's streaming `MailParser`, keeping the attachments'
 * decoded bytes and the Message-ID; the body text is never looked at.
 *
 * Attachments are held in memory until the message has ended rather than streamed on to the
 * inbox: 250 may only follow a whole, checked message, and a message refused for a later part
 * (too large, one attachment too many, a wrong type) must not have fed anything. What is held is
 * bounded by the DATA size limit: past it nothing more is parsed or kept.
 */
import { Effect } from "effect"
import type { SMTPServerDataStream } from "smtp-server"

export interface Attachment {
  /** Safe as a feed name, see `feedName`. */
  readonly name: string
  readonly contentType: string
  readonly bytes: Uint8Array
}

export type Read =
  | { readonly _tag: "Message"; readonly messageId: string | undefined; readonly attachments: ReadonlyArray<Attachment> }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Malformed" }
  /** The client went away before its final dot. */
  | { readonly _tag: "Aborted" }

/**
 * The attachment's file name as a feed name: its last path segment in letters, digits and
 * `._ ()+-`, no leading dots, at most 200 characters (the end kept, for the extension).
 */
export const feedName = (filename: string | undefined, n: number): string => {
  const last = (filename ?? "").split(/[\\/]/).pop() ?? ""
  const safe = last.normalize("NFKC").replace(/[^A-Za-z0-9._ ()+-]+/g, "_").replace(/^[.\s]+/, "").trim().slice(-200)
  return safe === "" ? `attachment-${n}` : safe
}

// Loaded on the first message: mailparser is a sixth of the start of every command that has no inbox.
const mailparser = Effect.promise(() => import("mailparser"))

export const read = (stream: SMTPServerDataStream): Effect.Effect<Read> =>
  Effect.flatMap(mailparser, ({ MailParser }) => Effect.async<Read>((resume) => {
    // Only what is needed: no HTML or link conversion of a body nobody reads, no checksums.
    const parser = new MailParser({ skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true, checksumAlgo: false })
    const attachments: Array<Attachment> = []
    let messageId: string | undefined
    let early: Read | undefined
    let streamEnded = false
    let settled = false

    const finish = (result: Read) => {
      if (settled) return
      settled = true
      resume(Effect.succeed(result))
    }
    // The rest of DATA is still read, and dropped, so the reply follows the client's final dot.
    const stop = (result: Read) => {
      if (early !== undefined) return
      early = result
      parser.destroy()
      // It may be paused waiting for the parser to drain, which will now never happen.
      stream.resume()
      if (streamEnded) finish(result)
    }

    stream.on("data", (chunk: Buffer) => {
      if (stream.sizeExceeded) stop({ _tag: "TooLarge" })
      if (early !== undefined) return
      if (!parser.write(chunk)) {
        stream.pause()
        parser.once("drain", () => stream.resume())
      }
    })
    stream.once("end", () => {
      streamEnded = true
      if (early === undefined) parser.end()
      else finish(early)
    })
    // smtp-server destroys the stream, with an error when one is listened for, if the connection drops.
    stream.on("error", () => undefined)
    stream.once("close", () => {
      if (!streamEnded) {
        stop({ _tag: "Aborted" })
        finish({ _tag: "Aborted" })
      }
    })

    parser.on("headers", (headers) => {
      const id = headers.get("message-id")
      messageId = typeof id === "string" ? id : undefined
    })
    parser.on("data", (part) => {
      if (part.type !== "attachment") return
      // An image embedded in an HTML body (multipart/related) is part of the body, not an export.
      if (part.related === true) return part.release?.()
      const n = attachments.length + 1
      const chunks: Array<Buffer> = []
      part.content.on("data", (chunk: Buffer) => chunks.push(chunk))
      part.content.on("error", () => stop({ _tag: "Malformed" }))
      part.content.once("end", () => {
        attachments.push({ name: feedName(part.filename, n), contentType: part.contentType.toLowerCase(), bytes: Buffer.concat(chunks) })
        part.release?.()
      })
    })
    parser.on("error", () => stop({ _tag: "Malformed" }))
    parser.once("end", () => finish(early ?? { _tag: "Message", messageId, attachments }))

    // Interrupted (shutdown): stop parsing and let smtp-server drain what the client still sends.
    return Effect.sync(() => {
      parser.destroy()
      stream.resume()
    })
  }))
