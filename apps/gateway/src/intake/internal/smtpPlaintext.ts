/**
 * Refusals before STARTTLS. smtp-server itself answers AUTH on a connection not yet upgraded with
 * 538 and MAIL, RCPT or DATA before AUTH with 530, before any handler of ours runs; its log stream
 * is the one place it reports them. So the inbox gives it a logger that watches for exactly that:
 * a 5xx reply to one of those commands while the connection is still in clear. Only the command's
 * name and the reply code are taken, never a command line: an AUTH argument is a credential and a
 * MAIL argument an address.
 *
 * Each is audited (stage `refused`, reason `before-starttls`), but at most `perPeer` per peer
 * address in each window: a scanner connecting in a loop must not flood the audit log, yet the
 * force must see that it happened and how often. Refusals over the limit are counted, and the
 * count is audited as one event (`before-starttls-suppressed`) once the window is over, or at
 * shutdown.
 */
import type { AuditEvent, AuditLog } from "@encompass/audit"
import { Clock, DateTime, Effect, FiberSet, HashMap, Option, Ref, Schedule } from "effect"
import type { Scope } from "effect"
import type { SMTPServerOptions, SMTPServerSession } from "smtp-server"

/** One command refused before STARTTLS. */
export interface Refusal {
  readonly session: string
  readonly remoteAddress: string
  readonly command: "AUTH" | "MAIL" | "RCPT" | "DATA"
  readonly reply: number
}

/** Refusals from one peer that were counted, not audited, in the window from `since`. */
interface Suppressed {
  readonly remoteAddress: string
  readonly count: number
  readonly since: number
  readonly until: number
}

export interface Limits {
  readonly perPeer: number
  readonly windowMs: number
}

interface Window {
  readonly start: number
  readonly audited: number
  readonly suppressed: number
}

/** Per peer address, its current window; a peer's entry goes when its window is over. */
type Peers = HashMap.HashMap<string, Window>

// A window summarised at shutdown ends then, not when it would have.
const summary = (remoteAddress: string, window: Window, now: number, windowMs: number): Array<Suppressed> =>
  window.suppressed === 0 ? [] : [{ remoteAddress, count: window.suppressed, since: window.start, until: Math.min(now, window.start + windowMs) }]

/** Whether `refusal`, at `now`, is audited; and the summary of its peer's window if that is over. */
const decide = (peers: Peers, refusal: Refusal, now: number, limits: Limits): [{ readonly audit: boolean; readonly closed: ReadonlyArray<Suppressed> }, Peers] => {
  const previous = HashMap.get(peers, refusal.remoteAddress)
  const current = Option.filter(previous, (w) => now - w.start < limits.windowMs)
  const closed = Option.isNone(current) && Option.isSome(previous) ? summary(refusal.remoteAddress, previous.value, now, limits.windowMs) : []
  const window = Option.getOrElse(current, () => ({ start: now, audited: 0, suppressed: 0 }))
  const audit = window.audited < limits.perPeer
  const next = audit ? { ...window, audited: window.audited + 1 } : { ...window, suppressed: window.suppressed + 1 }
  return [{ audit, closed }, HashMap.set(peers, refusal.remoteAddress, next)]
}

/** The summaries of every window over at `now` (of every window, with `all`), and the peers left. */
const closeWindows = (peers: Peers, now: number, limits: Limits, all = false): [ReadonlyArray<Suppressed>, Peers] => {
  const isOver = (window: Window) => all || now - window.start >= limits.windowMs
  const closed = Array.from(HashMap.filter(peers, isOver), ([peer, window]) => summary(peer, window, now, limits.windowMs)).flat()
  return [closed, HashMap.filter(peers, (window) => !isOver(window))]
}

export interface Auditor {
  /** Records a refusal: audited, or counted for its peer's summary. Never fails. */
  readonly refused: (refusal: Refusal) => Effect.Effect<void>
  /** Runs `refused` from smtp-server's callbacks. */
  readonly report: (refusal: Refusal) => void
}

/**
 * The rate-limited audit of refusals before STARTTLS, for the lifetime of the scope. Windows that
 * are over are summarised every `windowMs`; closing the scope waits for audits under way, then
 * summarises every window still open.
 */
export const make = (audit: AuditLog.AuditLog, limits: Limits): Effect.Effect<Auditor, never, Scope.Scope> =>
  Effect.gen(function*() {
    const peers = yield* Ref.make<Peers>(HashMap.empty())
    const writes = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(writes)()
    // One at a time, so the audit log has them in the order they happened, a summary included.
    const inOrder = (yield* Effect.makeSemaphore(1)).withPermits(1)

    // The reply has already been sent: an audit that fails can only be logged.
    const append = (subject: string, detail: AuditEvent.Detail, what: string) =>
      audit.append({ stage: "refused", subject, detail: { transport: "smtp", ...detail } }).pipe(
        Effect.zipRight(Effect.logWarning(`smtp inbox: ${what}`)),
        Effect.catchAllCause((cause) => Effect.logError("smtp inbox: a refusal before STARTTLS could not be audited", cause))
      )

    const writeSummaries = (closed: ReadonlyArray<Suppressed>) =>
      Effect.forEach(closed, (s) =>
        append(`smtp:peer:${s.remoteAddress}`, {
          remoteAddress: s.remoteAddress,
          reason: "before-starttls-suppressed",
          suppressed: s.count,
          since: DateTime.formatIso(DateTime.unsafeMake(s.since)),
          until: DateTime.formatIso(DateTime.unsafeMake(s.until))
        }, "further refusals before STARTTLS from one peer were counted, not audited one by one").pipe(
          Effect.annotateLogs({ suppressed: s.count })
        ), { discard: true })

    const refused = (refusal: Refusal) =>
      inOrder(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const { audit: audited, closed } = yield* Ref.modify(peers, (p) => decide(p, refusal, now, limits))
        yield* writeSummaries(closed)
        if (!audited) return
        yield* append(`smtp:${refusal.session}`, {
          remoteAddress: refusal.remoteAddress,
          reason: "before-starttls",
          command: refusal.command,
          reply: refusal.reply
        }, "refused before STARTTLS").pipe(Effect.annotateLogs({ session: refusal.session, command: refusal.command, reply: refusal.reply }))
      }))

    const closeOver = (all: boolean) =>
      inOrder(Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.modify(peers, (p) => closeWindows(p, now, limits, all))).pipe(Effect.flatMap(writeSummaries)))

    yield* Effect.forkScoped(Effect.repeat(closeOver(false), Schedule.spaced(limits.windowMs)).pipe(Effect.delay(limits.windowMs)))
    yield* Effect.addFinalizer(() => Effect.zipRight(FiberSet.awaitEmpty(writes), closeOver(true)))
    return { refused, report: (refusal) => void run(refused(refusal)) }
  })

const watched: ReadonlyArray<unknown> = ["AUTH", "MAIL", "RCPT", "DATA"] satisfies ReadonlyArray<Refusal["command"]>
const isWatched = (command: unknown): command is Refusal["command"] => watched.includes(command)

/**
 * The smtp-server options that report refusals before STARTTLS to `report`: `onConnect` and
 * `onClose` keep each open session (its address, and whether it is secure yet) and `logger`
 * watches the replies. Nothing else of smtp-server's logging is kept.
 */
export const watch = (report: (refusal: Refusal) => void): Pick<SMTPServerOptions, "logger" | "onConnect" | "onClose"> => {
  const sessions = new Map<string, { readonly session: SMTPServerSession; command: Refusal["command"] | undefined }>()
  const ignore = () => undefined
  return {
    onConnect: (session, done) => {
      sessions.set(session.id, { session, command: undefined })
      done()
    },
    onClose: (session) => void sessions.delete(session.id),
    logger: {
      trace: ignore,
      info: ignore,
      warn: ignore,
      error: ignore,
      fatal: ignore,
      // smtp-server logs each command as {tnx: "command", cid, command} and each reply as
      // {tnx: "send", cid} with the reply line as the last argument.
      debug: (entry: { readonly tnx?: unknown; readonly cid?: unknown; readonly command?: unknown }, ...args: ReadonlyArray<unknown>) => {
        const open = sessions.get(String(entry?.cid))
        if (open === undefined) return
        if (entry.tnx === "command") open.command = isWatched(entry.command) ? entry.command : undefined
        if (entry.tnx !== "send" || open.command === undefined || open.session.secure) return
        const reply = Number(/^(\d{3})[ -]/.exec(String(args[args.length - 1]))?.[1] ?? 0)
        if (reply >= 500) {
          report({ session: open.session.id, remoteAddress: open.session.remoteAddress, command: open.command, reply })
        }
        open.command = undefined
      }
    }
  }
}
